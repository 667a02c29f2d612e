#!/bin/bash
# The main job end to end, on a container: runc runs a container that counts
# every 100 ms; `ocicr checkpoint` saves it into a podman-layout archive (the
# container stops), and `ocicr restore --import` brings it back from the
# archive into a new bundle under a new name, with no runtime involved.  The
# counter goes on at the tick after the checkpoint, still pid 1 of its own
# pid namespace, with its memory intact.
set -euo pipefail
cd "$(dirname "$0")/.."

die() {
	echo "demo: $*" >&2
	exit 1
}
[ "$(id -u)" -eq 0 ] || die "run as root (checkpoint/restore needs it)"
command -v runc >/dev/null || die "needs runc (make deps installs it)"
[ -x /bin/busybox ] || die "needs /bin/busybox (Debian package busybox-static; make deps installs it)"

OCICR=./build/ocicr
WORK=$(mktemp -d /tmp/ocicr-demo.XXXXXX)
RUNC_ROOT=$WORK/runc
CTR=ocicr-demo-$$
CTR2=$CTR-restored
LOG=$WORK/log/ticker.log
ARCHIVE=$WORK/checkpoint.tar.zst
RPID=
OK=

cleanup() {
	[ -n "$RPID" ] && kill -KILL "$RPID" 2>/dev/null
	runc --root "$RUNC_ROOT" delete -f "$CTR" >/dev/null 2>&1 || true
	sleep 0.2
	# The cgroups runc made for the first container and ocicr for the second.
	for d in /sys/fs/cgroup/*/"$CTR" /sys/fs/cgroup/*/"$CTR2" /sys/fs/cgroup/"$CTR" /sys/fs/cgroup/"$CTR2"; do
		[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	[ -n "$OK" ] && rm -rf "$WORK"
	return 0
}
trap cleanup EXIT

last_tick() { tail -n 1 "$LOG" | awk '{print $2}'; }

echo "== a root file system: busybox and a static counter"
mkdir -p "$WORK/base"/{bin,proc,sys,dev,tmp,log,etc} "$WORK/log" "$WORK/bundle"
cc -O2 -static -o "$WORK/base/ticker" scripts/demo/ticker.c
cp /bin/busybox "$WORK/base/bin/busybox"
ln -s busybox "$WORK/base/bin/sh"
cp -a "$WORK/base" "$WORK/bundle/rootfs"

echo "== runc spec, edited: the counter as the process, /log bound from $WORK/log"
scripts/runc-bundle-config "$WORK/bundle" --args "/ticker /log/ticker.log" --writable-root \
	--hostname ocicr-demo --bind "/log=$WORK/log"

echo "== runc run -d $CTR"
runc --root "$RUNC_ROOT" run -d --bundle "$WORK/bundle" "$CTR" </dev/null >/dev/null 2>&1 ||
	die "runc cannot run the container"
sleep 1.5
PID=$(runc --root "$RUNC_ROOT" state "$CTR" | python3 -c 'import json, sys; print(json.load(sys.stdin)["pid"])')
echo "container $CTR: host pid $PID, $(tail -n 1 "$LOG")"

echo "== ocicr checkpoint --export $ARCHIVE $CTR"
$OCICR checkpoint --runtime-root "$RUNC_ROOT" --rootfs-base "$WORK/base" --export "$ARCHIVE" "$CTR"
AT_DUMP=$(last_tick)
echo "checkpointed at tick $AT_DUMP"
for _ in $(seq 100); do [ -e "/proc/$PID" ] || break; sleep 0.1; done
[ ! -e "/proc/$PID" ] || die "the container's pid $PID did not go away"
runc --root "$RUNC_ROOT" delete -f "$CTR" >/dev/null 2>&1 || true
echo "the container is gone; the archive:"
ls -l "$ARCHIVE"

echo "== what the archive holds (ocicr inspect)"
$OCICR inspect "$ARCHIVE"

echo "== ocicr restore --import $ARCHIVE --bundle $WORK/restored --name $CTR2 --runtime none"
$OCICR restore --import "$ARCHIVE" --bundle "$WORK/restored" --name "$CTR2" --rootfs-base "$WORK/base" \
	--runtime none -d --pid-file "$WORK/restored.pid"
RPID=$(cat "$WORK/restored.pid")
sleep 1
NEXT=$(grep -A1 "^tick $AT_DUMP " "$LOG" | tail -n 1)
echo "after the restore: '$NEXT' ... now at $(tail -n 1 "$LOG")"
echo "restored container $CTR2: host pid $RPID, hostname $(nsenter -t "$RPID" -u hostname 2>/dev/null || echo '?')"

if [ "$NEXT" = "tick $((AT_DUMP + 1)) pid 1" ] && [ -e "/proc/$RPID" ]; then
	echo "demo OK: the container resumed at tick $((AT_DUMP + 1)), right after the checkpoint, as pid 1 of its namespace"
	OK=1
else
	die "FAILED: expected 'tick $((AT_DUMP + 1)) pid 1' after the restore (see $WORK)"
fi
