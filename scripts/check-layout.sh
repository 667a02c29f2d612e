#!/bin/bash
# The layout rules of docs/architecture.md, checked on the sources:
#  - no include cycle between engine folders (and arch/), so each folder
#    is a layer that can be read, tested and replaced on its own;
#  - the engine includes arch/arch.h only, and arch/ includes only core/;
#  - no function in engine/ or arch/ is longer than 120 lines (body, from
#    the opening brace at column 0 to the closing one);
#  - oci/, bundle/ and hooks/ include only the public headers of
#    engine/include (ocicr.h, ocicr/cleanup.h) and their own headers, never
#    an engine-internal one.
# Exit status 1 and the offending edges or includes on a violation.
set -euo pipefail
cd "$(dirname "$0")/.."

status=0
edges=$(mktemp)
trap 'rm -f "$edges"' EXIT

# "folder of the includer" -> "folder of the included header", for every
# quoted include that names a folder of engine/ or arch/.
for f in $(git ls-files 'engine/*.[ch]' 'arch/*.[ch]'); do
	from=$(dirname "$f")
	from=${from#engine/}
	sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f" |
	while read -r inc; do
		case $inc in
		*/*) ;;
		*) continue ;; # same folder, ocicr.h or generated protobuf code
		esac
		to=$(dirname "$inc")
		[ "$to" = "$from" ] || printf '%s %s %s\n' "$from" "$to" "$f"
	done
done | sort -u >"$edges"

if ! cut -d' ' -f1,2 "$edges" | sort -u | tsort >/dev/null 2>&1; then
	echo "include cycle between engine folders:" >&2
	cut -d' ' -f1,2 "$edges" | sort -u | tsort 2>&1 >/dev/null | sed 's/^tsort: /  /' >&2
	echo "  edges (from-folder to-folder file):" >&2
	sed 's/^/    /' "$edges" >&2
	status=1
fi

# The engine reaches machine code through arch/arch.h only, and arch/ uses
# nothing of the engine but core/.
grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"arch/' $(git ls-files 'engine/*.[ch]') |
	grep -v '"arch/arch.h"' | sed 's/^/engine includes arch internals: /' >&2 && status=1
grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"[a-z_]*/' $(git ls-files 'arch/*.[ch]') |
	grep -v '"\(arch\|core\)/' | sed 's/^/arch includes engine internals: /' >&2 && status=1

# Functions stay short enough to read at once (docs/STYLE: under ~120 lines).
MAX_FUNCTION_LINES=${MAX_FUNCTION_LINES-120}
long=$(for f in $(git ls-files 'engine/*.c' 'arch/*.c'); do
	awk -v file="$f" -v max="$MAX_FUNCTION_LINES" '
		/^{/ { start = FNR; name = prev }
		/^}/ && start { if (FNR - start - 1 > max) printf "%s:%d: %d lines: %s\n", file, start, FNR - start - 1, name; start = 0 }
		{ prev = $0 }' "$f"
done)
if [ -n "$long" ]; then
	echo "functions over $MAX_FUNCTION_LINES lines:" >&2
	echo "$long" | sed 's/^/  /' >&2
	status=1
fi

for f in $(git ls-files 'oci/*.[ch]' 'bundle/*.[ch]' 'hooks/*.[ch]'); do
	dir=$(dirname "$f")
	sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f" |
	while read -r inc; do
		case $inc in
		ocicr.h | ocicr/cleanup.h | oci/* | bundle/* | hooks/*) continue ;;
		# CRIU's RPC protocol, compiled into the CLI on its own (oci/criu/rpc_*).
		rpc.pb-c.h) [ "$dir" = oci/criu ] && continue ;;
		esac
		[ -e "$dir/$inc" ] && continue
		echo "$f includes \"$inc\": only ocicr.h is public" >&2
		echo bad
	done
done | grep -q bad && status=1

exit $status
