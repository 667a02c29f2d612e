#!/usr/bin/env bats
# ocicr called as `criu`: CRIU 4.2's command line, its configuration files,
# action scripts, --restore-sibling, --leave-stopped, --pidfile, check.

load helpers

CRIU=${CRIU:-$REPO/build/criu}

setup() {
	requires root
	[ -x "$CRIU" ] || skip "no $CRIU (make builds the link)"
	# Configuration files of our own only: no /etc/criu or ~/.criu of the host.
	export HOME=$BATS_TEST_TMPDIR/home
	mkdir -p "$HOME"
	unset CRIU_CONFIG_FILE
}

teardown() {
	wl_cleanup
	if [ -n "${FREEZER:-}" ] && [ -d "$FREEZER" ]; then
		echo THAWED >"$FREEZER/freezer.state"
		for t in $(cat "$FREEZER/tasks"); do echo "$t" >/sys/fs/cgroup/freezer/tasks; done
		rmdir "$FREEZER"
	fi
}

criu() {
	"$CRIU" "$@"
}

# A script that logs each call: action, CRTOOLS_INIT_PID, whether
# CRTOOLS_IMAGE_DIR is the images directory (it holds the workload's
# images once they exist), and fails at the action named in $1.
make_hook() {
	local fail_at=${1:-none}
	cat >"$WL_DIR/hook.sh" <<EOF
#!/bin/sh
img=no
[ -d "\$CRTOOLS_IMAGE_DIR" ] && [ "\$(stat -L -c %i "\$CRTOOLS_IMAGE_DIR")" = "\$(stat -c %i "$WL_DIR/img")" ] && img=yes
echo "\$CRTOOLS_SCRIPT_ACTION \${CRTOOLS_INIT_PID:--} \$img" >>"$WL_DIR/hook.out"
[ "\$CRTOOLS_SCRIPT_ACTION" = "$fail_at" ] && exit 3
exit 0
EOF
	chmod +x "$WL_DIR/hook.sh"
	: >"$WL_DIR/hook.out"
}

criu_dump() {
	run criu dump -t "$WL_PID" -D "$WL_DIR/img" -o dump.log -v4 "$@"
	[ "$status" -eq 0 ] || { show_log "$WL_DIR/img/dump.log"; fail "criu dump failed ($status): $output"; }
}

criu_restore() {
	run criu restore -D "$WL_DIR/img" -d -o restore.log -v4 "$@"
	[ "$status" -eq 0 ] || { show_log "$WL_DIR/img/restore.log"; fail "criu restore failed ($status): $output"; }
}

@test "criu --version and -V print CRIU's two lines; -h prints the usage" {
	for v in --version -V; do
		run criu $v
		assert_success
		assert_line --index 0 "Version: 4.2"
		assert_line --index 1 --regexp '^GitID: ocicr-[0-9]+\.[0-9]+\.[0-9]+$'
	done
	run criu -h
	assert_success
	assert_output --partial "criu dump -t PID"
	run criu
	assert_failure 1
	run criu frobnicate
	assert_failure 1
	assert_output --partial "unknown command: frobnicate"
}

@test "criu check answers for what ocicr supports: --feature, unknown features, the whole check" {
	run criu check --feature clone3_set_tid
	assert_success
	assert_output "clone3_set_tid is supported"
	# a namespace's nftables ruleset is saved (zdtm netns-nft asks)
	run criu check --feature nftables
	assert_success
	assert_output "nftables is supported"
	run criu check --no-default-config -verbosity=0 --feature=tun
	assert_failure 1
	assert_output "tun is not supported by ocicr"
	run criu check --feature mem_dirty_track
	assert_failure 1
	# zdtm's cgroup namespace tests run only where this says so.
	if [ -e /proc/self/ns/cgroup ]; then
		run criu check --no-default-config -verbosity=0 --feature cgroupns
		assert_success
		assert_output "cgroupns is supported"
	fi
	run criu check --feature nonesuch
	assert_failure 1
	assert_output --partial "unknown feature nonesuch"
	run criu check --all
	assert_success
	assert_line "Looks good."
}

# zdtm runs its seccomp, loginuid and pthread_timers tests only where these
# say yes; each is probed as a dump or restore would use it.
@test "criu check: seccomp_suspend, seccomp_filters, loginuid and ns_pid as the kernel and privileges allow" {
	requires setpriv
	local f nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all)
	if grep -q '^Seccomp_filters:' /proc/self/status; then
		for f in seccomp_suspend seccomp_filters; do
			run criu check --no-default-config --feature $f
			assert_success
			assert_output "$f is supported"
			# Suspending or reading a task's filters needs CAP_SYS_ADMIN.
			run "${nobody[@]}" "$CRIU" check --no-default-config --feature $f
			assert_failure 1
			assert_output --partial "$f is not supported here: this kernel lacks it, or this process lacks CAP_SYS_ADMIN"
		done
	fi
	if [ -e /proc/self/loginuid ]; then
		# Set here, the login uid can be changed only with CAP_AUDIT_CONTROL.
		echo 77 >/proc/self/loginuid
		run criu check --no-default-config --feature loginuid
		assert_success
		assert_output "loginuid is supported"
		run "${nobody[@]}" "$CRIU" check --no-default-config --feature loginuid
		assert_failure 1
		assert_output --partial "loginuid is not supported"
	fi
	if grep -q '^NSpid:' /proc/self/status; then
		run "${nobody[@]}" "$CRIU" check --no-default-config --feature ns_pid
		assert_success
		assert_output "ns_pid is supported"
	fi
}

@test "criu check --feature has_ipt_legacy: as CRIU, an iptables-save and ip6tables-save of the legacy API, the -legacy ones where those speak nftables" {
	local bin=$BATS_TEST_TMPDIR/bin t
	mkdir -p "$bin"
	for t in iptables-save ip6tables-save; do
		printf '#!/bin/sh\necho "%s v1.8.9 (nf_tables)"\n' "$t" >"$bin/$t"
	done
	chmod +x "$bin"/*
	PATH=$bin run "$CRIU" check --feature has_ipt_legacy
	assert_failure 1
	assert_output --partial "has_ipt_legacy is not supported"
	for t in iptables-legacy-save ip6tables-legacy-save; do
		printf '#!/bin/sh\necho "%s v1.8.9 (legacy)"\n' "$t" >"$bin/$t"
	done
	chmod +x "$bin"/*
	PATH=$bin run "$CRIU" check --feature has_ipt_legacy
	assert_success
	assert_output "has_ipt_legacy is supported"
	# IPv6 works here: ip6tables must be legacy too.
	rm "$bin/ip6tables-legacy-save"
	PATH=$bin run "$CRIU" check --feature has_ipt_legacy
	assert_failure 1
	# And this host's, as CRIU 4.2 answers here.
	run criu check --feature has_ipt_legacy
	if command -v iptables-legacy-save >/dev/null && command -v ip6tables-legacy-save >/dev/null; then
		assert_success
	fi
}

@test "criu check answers aio_remap and pagemap_scan_guard_pages as this kernel allows (zdtm aio00, maps12)" {
	# AIO rings: any kernel with AIO at all (fs.aio-max-nr says it has).
	run criu check --feature aio_remap
	if [ -e /proc/sys/fs/aio-max-nr ]; then
		assert_success
		assert_output "aio_remap is supported"
	else
		assert_failure 1
	fi
	# Guard regions are reported by PAGEMAP_SCAN from Linux 6.14.
	run criu check --feature pagemap_scan_guard_pages
	if kernel_at_least 6 14; then
		assert_success
		assert_output "pagemap_scan_guard_pages is supported"
	else
		assert_failure 1
		assert_output --partial "pagemap_scan_guard_pages is not supported"
	fi
	run criu check --feature mem_dirty_track --feature aio_remap
	assert_failure 1
}

@test "options by long, short and =-joined names dump and restore; the action may come last" {
	wl_start tree
	run criu -t "$WL_PID" --images-dir="$WL_DIR/img" --log-file=dump.log --verbosity=4 -j --file-locks \
		--timeout=10 --pidfile=ignored --pre-dump-mode splice dump
	[ "$status" -eq 0 ] || { show_log "$WL_DIR/img/dump.log"; fail "$output"; }
	[ -e "$WL_DIR/img/inventory.img" ] || fail "no inventory.img"
	grep -q "Debug" "$WL_DIR/img/dump.log" || fail "--verbosity=4 did not reach the log"
	wait_tree_gone
	run criu restore -D"$WL_DIR/img" -d -ojoined.log -v4
	assert_success
	[ -s "$WL_DIR/img/joined.log" ] || fail "-ojoined.log was not used"
	wl_expect_pass
}

@test "a refused option still leaves the log file, with the reason in it (zdtm reads it)" {
	wl_start tree
	mkdir -p "$WL_DIR/img"
	run criu dump -t "$WL_PID" -D "$WL_DIR/img" -o dump.log -v4 --stream
	assert_failure 1
	assert_output --partial "not supported by ocicr yet: --stream"
	[ -s "$WL_DIR/img/dump.log" ] || fail "no dump.log"
	grep -q "Error: not supported by ocicr yet: --stream" "$WL_DIR/img/dump.log" || fail "$(cat "$WL_DIR/img/dump.log")"
	[ ! -e "$WL_DIR/img/inventory.img" ] || fail "an image set was written"
	# In the work directory, as CRIU puts it; a restore's too, with no pid file left.
	mkdir -p "$WL_DIR/work"
	run criu restore -D "$WL_DIR/img" -W "$WL_DIR/work" -o restore.log --pidfile "$WL_DIR/r.pid" -d --lazy-pages
	assert_failure 1
	grep -q "Error: not supported by ocicr yet: --lazy-pages" "$WL_DIR/work/restore.log" ||
		fail "no restore.log with the reason"
	[ ! -e "$WL_DIR/r.pid" ] || fail "a pid file was left"
	# A missing -t is logged as well.
	run criu dump -D "$WL_DIR/img" -o nopid.log
	assert_failure 1
	grep -q "Error: no pid to dump" "$WL_DIR/img/nopid.log" || fail "no nopid.log with the reason"
	wl_expect_pass
}

@test "an option ocicr lacks fails at once by name (exit 1) and leaves the tree alone; so does ocicr dump" {
	wl_start tree
	for opt in --page-server --external=dev[1/2]:y \
		--lazy-pages --stream --track-mem "--prev-images-dir ../p"; do
		# shellcheck disable=SC2086
		run criu dump -t "$WL_PID" -D "$WL_DIR/img" $opt
		assert_failure 1
		name=${opt%% *}
		assert_output --partial "not supported by ocicr yet: ${name%%=*}"
		[ ! -e "$WL_DIR/img/inventory.img" ] || fail "$opt: an image set was written"
	done
	run ocicr dump -t "$WL_PID" -D "$WL_DIR/img" --external=dev[1/2]:y
	assert_failure 1
	assert_output --partial "not supported by ocicr yet: --external"
	# Its --no- form asks for what ocicr does anyway.
	run criu dump -t "$WL_PID" -D "$WL_DIR/img" -o dump.log --no-track-mem -R
	assert_success
	assert_equal "$(tracer_of "$WL_PID")" 0
	run criu dump -t "$WL_PID" --frobnicate
	assert_failure 1
	assert_output --partial -- "--frobnicate"
	run criu dump -t "$WL_PID" -D "$WL_DIR/img" --pre-dump-mode=copy
	assert_failure 1
	assert_output --partial -- "invalid argument for --pre-dump-mode: copy (splice or read)"
	wl_expect_pass
}

@test "configuration files: ~/.criu/default.conf, CRIU_CONFIG_FILE, --config, --no-default-config" {
	wl_start tree
	mkdir -p "$HOME/.criu"
	printf '# defaults\nlog-file home.log\nverbosity 4\n' >"$HOME/.criu/default.conf"
	criu_dump_args=(-t "$WL_PID" -D "$WL_DIR/img" -R)
	run criu dump "${criu_dump_args[@]}"
	assert_success
	grep -q Debug "$WL_DIR/img/home.log" || fail "~/.criu/default.conf was not read"

	rm -f "$WL_DIR/img/home.log"
	run criu dump --no-default-config "${criu_dump_args[@]}"
	assert_success
	[ ! -e "$WL_DIR/img/home.log" ] || fail "--no-default-config read ~/.criu/default.conf"

	printf 'track-mem\n' >"$WL_DIR/env.conf"
	CRIU_CONFIG_FILE=$WL_DIR/env.conf run criu dump "${criu_dump_args[@]}"
	assert_failure 1
	assert_output --partial "not supported by ocicr yet: --track-mem"
	# Refused, but logged where ~/.criu/default.conf says.
	grep -q "not supported by ocicr yet: --track-mem" "$WL_DIR/img/home.log" || fail "no log of the refusal"
	rm -f "$WL_DIR/img/home.log"

	printf 'tree %s\nimages-dir "%s"\nlog-file cfg.log  # a comment\nleave-running\n' "$WL_PID" "$WL_DIR/img" \
		>"$WL_DIR/my.conf"
	run criu dump --config "$WL_DIR/my.conf"
	assert_success
	[ -e "$WL_DIR/img/cfg.log" ] || fail "--config was not read"
	[ ! -e "$WL_DIR/img/home.log" ] || fail "--config still read ~/.criu/default.conf"
	run criu dump --config "$WL_DIR/none.conf" -t "$WL_PID"
	assert_failure 1
	assert_output --partial "none.conf"
	wl_expect_pass
}

@test "action scripts run at CRIU's points, in CRIU's order, with CRIU's environment" {
	wl_start tree
	make_hook
	criu_dump --action-script "$WL_DIR/hook.sh"
	run cat "$WL_DIR/hook.out"
	assert_output "pre-dump $WL_PID yes
post-dump $WL_PID yes"
	wait_tree_gone
	: >"$WL_DIR/hook.out"
	criu_restore --action-script "$WL_DIR/hook.sh"
	run cat "$WL_DIR/hook.out"
	assert_output "pre-restore - yes
setup-namespaces $WL_PID yes
post-setup-namespaces $WL_PID yes
post-restore $WL_PID yes
pre-resume $WL_PID yes
post-resume $WL_PID yes"
	wl_expect_pass
}

@test "several action scripts all run at each point, the last given first (as CRIU's list)" {
	wl_start memory
	for name in first second; do
		printf '#!/bin/sh\necho "$CRTOOLS_SCRIPT_ACTION %s" >>"%s"\n' $name "$WL_DIR/order.out" >"$WL_DIR/$name.sh"
		chmod +x "$WL_DIR/$name.sh"
	done
	criu_dump -R --action-script "$WL_DIR/first.sh" --action-script="$WL_DIR/second.sh"
	run cat "$WL_DIR/order.out"
	assert_output "pre-dump second
pre-dump first
post-dump second
post-dump first"
	wl_expect_pass
}

@test "a failing pre-dump or post-dump script fails the dump: the tree runs on, no image set is left" {
	wl_start tree
	for at in pre-dump post-dump; do
		make_hook $at
		run criu dump -t "$WL_PID" -D "$WL_DIR/img" -o dump.log --action-script "$WL_DIR/hook.sh"
		assert_failure 1
		assert_output --partial "$at notification: action script $WL_DIR/hook.sh exited with status 3"
		[ ! -e "$WL_DIR/img/inventory.img" ] || fail "the failed dump left inventory.img"
		[ -z "$(ls "$WL_DIR"/img/*.img 2>/dev/null)" ] || fail "the failed dump left images: $(ls "$WL_DIR/img")"
		assert_equal "$(tracer_of "$WL_PID")" 0
	done
	wl_expect_pass
}

@test "a failing pre-restore or post-restore script fails the restore and leaves no task behind" {
	wl_start tree
	criu_dump
	wait_tree_gone
	for at in pre-restore post-restore; do
		make_hook $at
		run criu restore -D "$WL_DIR/img" -d -o restore.log --action-script "$WL_DIR/hook.sh"
		assert_failure 1
		assert_output --partial "$at notification: action script"
		wait_tree_gone
	done
	criu_restore
	wl_expect_pass
}

@test "--restore-sibling: the restored root is the caller's child, and the caller waits for it" {
	wl_start tree
	criu_dump
	wait_tree_gone
	run criu restore -D "$WL_DIR/img" --restore-sibling
	assert_failure 1
	assert_output --partial "--restore-sibling only makes sense with --restore-detached"
	# The caller (python) runs criu, finds the root its own child, wakes it
	# and reaps it itself.
	run python3 - "$CRIU" "$WL_DIR" <<'EOF'
import os, signal, subprocess, sys
criu, d = sys.argv[1], sys.argv[2]
r = subprocess.run([criu, "restore", "-D", d + "/img", "-o", "restore.log", "--restore-sibling",
                    "--restore-detached", "--pidfile", "root.pid"])
assert r.returncode == 0, "criu restore failed: %d" % r.returncode
pid = int(open(d + "/img/root.pid").read())
ppid = int(open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()[1])
assert ppid == os.getpid(), "root %d has parent %d, not the caller %d" % (pid, ppid, os.getpid())
os.kill(pid, signal.SIGUSR1)
_, st = os.waitpid(pid, 0)
print("root %d exited %d" % (pid, os.waitstatus_to_exitcode(st)))
EOF
	assert_success
	assert_output "root $WL_PID exited 0"
	run cat "$WL_DIR/result"
	assert_output "PASS"
}

@test "--leave-stopped: the dumped tree stays stopped, and a restored one starts stopped" {
	wl_start tree
	criu_dump --leave-stopped
	assert_equal "$(task_state "$WL_PID")" T
	assert_equal "$(tracer_of "$WL_PID")" 0
	# Some of the tree's tasks lead sessions of their own: kill each.
	for core in "$WL_DIR"/img/core-*.img; do
		p=${core##*/core-}
		kill -9 "${p%.img}" 2>/dev/null || true
	done
	wait_tree_gone
	# One task alone, so that SIGCONT wakes all there is.
	wl_start memory
	criu_dump
	wait_tree_gone
	criu_restore -s
	assert_equal "$(task_state "$WL_PID")" T
	kill -CONT "$WL_PID"
	wl_expect_pass
}

@test "--pidfile and --log-file go into the work directory (-W), as CRIU's" {
	wl_start tree
	mkdir -p "$WL_DIR/work"
	run criu dump -t "$WL_PID" -D "$WL_DIR/img" -W "$WL_DIR/work" -o dump.log --display-stats
	assert_success
	assert_line "Displaying dump stats:"
	assert_line --regexp '^Memory pages written: [1-9][0-9]* \(0x[0-9a-f]+\)$'
	[ -e "$WL_DIR/work/dump.log" ] || fail "no dump.log in the work directory"
	[ ! -e "$WL_DIR/img/dump.log" ] || fail "dump.log is in the images directory"
	wait_tree_gone
	criu_restore -W "$WL_DIR/work" --pidfile root.pid
	assert_equal "$(cat "$WL_DIR/work/root.pid")" "$WL_PID"
	wl_expect_pass
}

@test "--timeout bounds the freeze: a task that cannot stop fails the dump in time and runs on" {
	[ -d /sys/fs/cgroup/freezer ] || skip "no cgroup v1 freezer"
	wl_start memory
	FREEZER=/sys/fs/cgroup/freezer/ocicr-criu-cli-$$
	mkdir "$FREEZER"
	for t in /proc/"$WL_PID"/task/*; do echo "${t##*/}" >"$FREEZER/tasks"; done
	echo FROZEN >"$FREEZER/freezer.state"
	SECONDS=0
	run timeout 30 "$CRIU" dump -t "$WL_PID" -D "$WL_DIR/img" --timeout 2
	assert_failure 1
	assert_output --partial "did not stop within the 2 s timeout"
	[ "$SECONDS" -lt 15 ] || fail "the dump took $SECONDS s"
	echo THAWED >"$FREEZER/freezer.state"
	assert_equal "$(tracer_of "$WL_PID")" 0
	wl_expect_pass
}

@test "--ghost-limit: an unlinked file over it fails the dump by name, and under it is saved" {
	wl_start files # it holds an unlinked file of 10000 bytes
	run criu dump -t "$WL_PID" -D "$WL_DIR/img" -o dump.log --ghost-limit 9K
	assert_failure 1
	assert_output --partial "unlinked file of 10000 bytes is over the ghost limit of 9216 bytes"
	[ ! -e "$WL_DIR/img/inventory.img" ] || fail "the failed dump left inventory.img"
	assert_equal "$(tracer_of "$WL_PID")" 0
	run criu dump -t "$WL_PID" -D "$WL_DIR/img" -o dump.log --ghost-limit=10K
	assert_success
	wait_tree_gone
	criu_restore
	wl_expect_pass
}

@test "--ghost-limit defaults to CRIU's 1 MiB: an unlinked file holding 2 MiB fails the dump without it, not with 4M" {
	wl_start ghost_big
	run criu dump -t "$WL_PID" -D "$WL_DIR/img" -o dump.log
	assert_failure 1
	assert_output --partial "unlinked file of 2097152 bytes is over the ghost limit of 1048576 bytes"
	assert_equal "$(tracer_of "$WL_PID")" 0
	run criu dump -t "$WL_PID" -D "$WL_DIR/img" -o dump.log --ghost-limit 4M
	assert_success
	wait_tree_gone
	criu_restore
	wl_expect_pass
}

@test "swrk without the RPC service, and the actions ocicr lacks, say so (exit 1)" {
	for action in pre-dump page-server lazy-pages "cpuinfo dump" "cpuinfo check"; do
		# shellcheck disable=SC2086
		run criu $action
		assert_failure 1
		assert_output --partial "not supported by ocicr yet: $action"
	done
	run criu swrk
	assert_failure 1
	assert_output --partial "Usage: criu swrk <fd>"
}

@test "--ext-unix-sk: a datagram socket connected to a named one outside the tree is connected to it again" {
	wl_start ext_unix_sk
	run criu dump -t "$WL_PID" -D "$WL_DIR/img" -o dump.log
	assert_failure 1
	assert_output --partial "dump with --ext-unix-sk"
	kill -0 "$WL_PID" || fail "the failed dump killed the workload"
	run criu dump -t "$WL_PID" -D "$WL_DIR/img" -o dump.log --ext-unix-sk=12345
	assert_failure 1
	assert_output --partial "not supported by ocicr yet: --ext-unix-sk=12345"
	run criu dump -t "$WL_PID" -D "$WL_DIR/img" -o dump.log -v4 --ext-unix-sk
	assert_success
	wait_gone "$WL_PID"
	run criu restore -D "$WL_DIR/img" -o restore.log -v4 -d --ext-unix-sk
	assert_success
	wl_expect_pass
}

@test "options accepted: --link-remap (on a tree with nothing to link), --ghost-fiemap, --force-irmap, --irmap-scan-path" {
	wl_start tree
	run criu dump -t "$WL_PID" -D "$WL_DIR/img" -o dump.log --link-remap --ghost-fiemap --force-irmap \
		--irmap-scan-path /nonesuch --no-ghost-fiemap
	assert_success
	wait_tree_gone
	run criu restore -D "$WL_DIR/img" -o restore.log -d --link-remap
	assert_success
	wl_expect_pass
}
