#!/bin/bash
# The main job end to end: a live process is checkpointed, killed, and
# restored with the same pid; it goes on counting where it stopped.
set -euo pipefail
cd "$(dirname "$0")/.."

[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (checkpoint/restore needs it)"; exit 1; }

OCICR=./build/ocicr
WORK=$(mktemp -d /tmp/ocicr-demo.XXXXXX)
LOG=$WORK/ticker.log
IMAGES=$WORK/images
cc -O2 -o "$WORK/ticker" scripts/demo/ticker.c

last_tick() { tail -n 1 "$LOG" | awk '{print $2}'; }
wait_gone() { for _ in $(seq 1 100); do [ -e "/proc/$1" ] || return 0; sleep 0.1; done; return 1; }

echo "== ocicr check"
$OCICR check

echo "== starting a workload that counts every 100 ms"
setsid "$WORK/ticker" "$LOG" </dev/null >/dev/null 2>&1 &
sleep 1.5
PID=$(awk 'NR==1 {print $4}' "$LOG")
echo "pid $PID, at tick $(last_tick)"

echo "== ocicr dump -t $PID -D $IMAGES (the task is killed after the dump)"
$OCICR dump -t "$PID" -D "$IMAGES"
AT_DUMP=$(last_tick)
echo "dumped at tick $AT_DUMP; images:"
ls -l "$IMAGES"
wait_gone "$PID" || { echo "demo: pid $PID did not go away"; exit 1; }
echo "pid $PID is gone"

echo "== what the checkpoint holds (ocicr inspect)"
$OCICR inspect --ps-tree --cmdline --files "$IMAGES"

echo "== one image as crit would print it (ocicr image decode)"
$OCICR image decode --pretty -i "$IMAGES/pstree.img"

echo "== restore plan"
$OCICR restore -D "$IMAGES" --plan-only

echo "== ocicr restore -D $IMAGES -d"
$OCICR restore -D "$IMAGES" -d
sleep 1
NEXT=$(grep -A1 "^tick $AT_DUMP " "$LOG" | tail -n 1)
echo "after restore: '$NEXT' ... now at tick $(last_tick)"
kill "$PID" 2>/dev/null || true

if [ "$NEXT" = "tick $((AT_DUMP + 1)) pid $PID" ]; then
	echo "demo OK: pid $PID resumed at tick $((AT_DUMP + 1)), right after the checkpoint"
	rm -rf "$WORK"
else
	echo "demo FAILED: expected 'tick $((AT_DUMP + 1)) pid $PID' after the restore (see $WORK)"
	exit 1
fi
