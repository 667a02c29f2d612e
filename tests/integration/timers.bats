#!/usr/bin/env bats
# Timers: itimers and POSIX timers with their ids, clocks, signals,
# targets and times (tests/workloads/timers.c).

load helpers

setup() {
	requires root
}

teardown() {
	wl_cleanup
}

@test "timers: itimers and POSIX timers keep ids, clocks, signals and times" {
	wl_roundtrip timers
}

# The thread a SIGEV_THREAD_ID timer signals is named by its pid inside
# the namespace (NSpid: `criu check --feature ns_pid`).
@test "timers: a timer signalling a thread of a pid namespace's init keeps its target" {
	requires unshare
	WL_WRAP="unshare --pid --fork setsid" WL_WRAP_FORKS=1 wl_start timers
	outer=$WL_PID
	wl_dump
	run crit_get "$WL_DIR/img/core-1.img" \
		'[t["notify_thread_id"] for t in img["entries"][0]["tc"]["timers"]["posix"] if "notify_thread_id" in t]'
	[ "$output" = "[2]" ] || fail "the timer's thread is not named by its pid inside: $output"
	wait_gone "$outer"
	wl_restore_root
	wl_expect_pass
}

# CRIU writes an interval timer dumped at the instant it expires with no
# time left and its interval set; CRIU's restore arms it for one interval.
@test "timers: an interval timer with no time left in the image (as CRIU writes one expiring) comes back armed" {
	requires python3
	wl_start itimer_rearm
	wl_dump
	wait_gone "$WL_PID"
	local core="$WL_DIR/img/core-$WL_PID.img"
	ocicr image decode -i "$core" -o "$WL_DIR/core.json"
	python3 - "$WL_DIR/core.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
real = doc["entries"][0]["tc"]["timers"]["real"]
assert real["isec"] == 2 and real["vsec"] > 100, real
real["vsec"] = real["vusec"] = 0
json.dump(doc, open(sys.argv[1], "w"))
PY
	ocicr image encode -i "$WL_DIR/core.json" -o "$core"
	wl_restore
	wl_expect_pass
}
