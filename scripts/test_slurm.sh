#!/usr/bin/env bash
# `make test-slurm`: the SLURM tests against a real cluster. Uses the cluster `sinfo` already answers
# (SLURM_CONF or /etc/slurm); otherwise starts the single-node one of scripts/slurm_local.sh, runs the
# tests and stops what it started. Without SLURM installed it skips, saying why (exit 0).
set -euo pipefail
cd "${0%/*}/.."
PY=${PY:-.venv/bin/python}
if ! command -v sinfo >/dev/null 2>&1; then
    echo "test-slurm: skipped: SLURM is not installed (no sinfo on PATH); to run these tests install it with"
    echo "  scripts/slurm_local.sh install   (as root: apt-get install slurm-wlm munge)"
    exit 0
fi
started=""
if ! sinfo >/dev/null 2>&1; then
    scripts/slurm_local.sh start
    started=1
    eval "$(scripts/slurm_local.sh env)"
    trap 'scripts/slurm_local.sh stop' EXIT
fi
echo "test-slurm: against $(sinfo --version) (SLURM_CONF=${SLURM_CONF:-default})"
t0=$(date +%s)
"$PY" -m pytest -q -m slurm tests/test_slurm_real.py "$@"
echo "test-slurm: $(( $(date +%s) - t0 )) s of tests${started:+ (cluster started and stopped by this run)}"
