#!/bin/bash
# Time `make demo` from a fresh clone of this repository, the way the README's figure was taken.
#
#   bash bench/demo_time.sh [KILL_AFTER_S]
#
# Clones HEAD into $WORK (default /tmp/mollia-demo-time) with an EMPTY $MOLLIA_HOME there (so the
# model fetch is included), runs `make demo`, then runs it a second time (report only). With
# KILL_AFTER_S, the first run's whole process group is SIGKILLed after that many seconds and the
# second run must finish the grid, skipping the cells already done. Pass the paper's released
# arrays as MOLLIA_PAPER_PROBES to include the replayed paper stages. Prints the wall times; the
# demo's own per-stage lines and "demo took N s" are in $WORK/run1.log and $WORK/run2.log.
set -u
KILL_AFTER=${1:-0}
REPO=$(cd "$(dirname "$0")/.." && pwd)
WORK=${WORK:-/tmp/mollia-demo-time}
rm -rf "$WORK" && mkdir -p "$WORK"
git clone -q "$REPO" "$WORK/clone" && cd "$WORK/clone" || exit 1
export MOLLIA_HOME="$WORK/home"
t0=$(date +%s)
setsid make demo > "$WORK/run1.log" 2>&1 &
pid=$!
if [ "$KILL_AFTER" -gt 0 ]; then
    for _ in $(seq 1 "$KILL_AFTER"); do sleep 1; kill -0 $pid 2>/dev/null || break; done
    if kill -0 $pid 2>/dev/null; then
        kill -KILL -- -$pid
        echo "run 1: SIGKILLed after $(( $(date +%s) - t0 )) s"
        sleep 3
        pkill -9 -f "$WORK/clone/.venv" || true  # kernels that left the process group
    fi
fi
wait $pid 2>/dev/null
rc1=$?
t1=$(date +%s)
echo "run 1: rc $rc1, $((t1 - t0)) s wall"
make demo > "$WORK/run2.log" 2>&1
rc2=$?
t2=$(date +%s)
echo "run 2: rc $rc2, $((t2 - t1)) s wall; both runs $((t2 - t0)) s"
grep -a "^model \|already done\|grid offline\|demo took" "$WORK/run1.log" "$WORK/run2.log"
