#!/bin/sh
# Make ocicr the `criu` that podman, conmon, runc, crun and containerd run:
# a link in /usr/local/sbin, which Debian's default PATH (root's shells,
# systemd services, and the PATH podman hands to conmon and runc) searches
# before /usr/sbin, where Debian's criu is.  See README.md in this folder.
set -eu

usage() {
	cat <<USAGE
usage: $0 [--criu-dir DIR] [--root DIR] [--print] [--remove] [--force]

Links ROOT/usr/local/sbin/criu to DIR/criu, ocicr's criu link from
\`make install\` (CRIUDIR, default /usr/local/lib/ocicr).

  --criu-dir DIR  where make install put the criu link
  --root DIR      work under DIR instead of / (packaging, tests)
  --print         say what would be done; change nothing
  --remove        remove the link (only if it is ours)
  --force         replace a /usr/local/sbin/criu that is not ours
USAGE
}

criu_dir=/usr/local/lib/ocicr
root=
mode=link
force=false
while [ $# -gt 0 ]; do
	case $1 in
	--criu-dir) criu_dir=${2:?--criu-dir needs a folder}; shift 2 ;;
	--root) root=${2:?--root needs a folder}; shift 2 ;;
	--print) mode=print; shift ;;
	--remove) mode=remove; shift ;;
	--force) force=true; shift ;;
	-h | --help) usage; exit 0 ;;
	*) echo "$0: unknown option $1" >&2; usage >&2; exit 2 ;;
	esac
done
case $criu_dir in
/*) ;;
*) echo "$0: --criu-dir must be an absolute path: $criu_dir" >&2; exit 2 ;;
esac

link=$root/usr/local/sbin/criu
target=$criu_dir/criu

ours() { # is $link our link?
	[ -L "$link" ] && [ "$(readlink "$link")" = "$target" ]
}

if [ "$mode" = remove ]; then
	if ours; then
		rm -f "$link"
		echo "removed $link"
	elif [ -e "$link" ] || [ -L "$link" ]; then
		echo "$0: $link is not ocicr's link; left alone" >&2
		exit 1
	fi
	exit 0
fi

# The target must be ocicr speaking CRIU's command line.
if ! version=$("$root$target" --version 2>/dev/null) || ! echo "$version" | grep -q '^GitID: ocicr-'; then
	echo "$0: $root$target is not ocicr's criu link (run make install, or give --criu-dir)" >&2
	exit 1
fi
if ! ours && { [ -e "$link" ] || [ -L "$link" ]; } && [ "$force" = false ]; then
	echo "$0: $link exists and is not ocicr's link (--force replaces it)" >&2
	exit 1
fi
if [ "$mode" = print ]; then
	echo "would link $link -> $target"
	exit 0
fi
mkdir -p "$(dirname "$link")"
ln -sfn "$target" "$link.ocicr-new.$$"
mv -fT "$link.ocicr-new.$$" "$link"
echo "linked $link -> $target"
case ":$PATH:" in
*:/usr/local/sbin:*/usr/sbin:*) ;;
*) [ -n "$root" ] || echo "note: this PATH does not search /usr/local/sbin before /usr/sbin: $PATH" ;;
esac
