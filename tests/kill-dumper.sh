#!/bin/bash
# The long run of tests/integration/kill-dumper.bats: SIGKILL of ocicr at
# every point of its *_LONG lists (17 log-line points, 20 test points
# inside remote calls, twins and pumps with the guardian killed, 14 inside
# remote calls with the worker itself killed, over a plain and a -R dump;
# 2 more through swrk), on a bigger tree (KT_MIB, default 384), ROUNDS
# times (default 1).  Each point's result is printed; the exit status is bats'.
set -u
cd "$(dirname "$0")/.." || exit 1
make -s all build/workloads/killtree || exit 1
rounds=${ROUNDS:-1} status=0
for ((i = 1; i <= rounds; i++)); do
	echo "== round $i of $rounds"
	KILL_DUMPER_LONG=1 KT_MIB=${KT_MIB:-384} bats tests/integration/kill-dumper.bats || status=1
done
exit $status
