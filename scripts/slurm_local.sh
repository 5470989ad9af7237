#!/usr/bin/env bash
# A real single-node SLURM cluster on this machine, for the SLURM tests and for trying the cluster path.
#
#   scripts/slurm_local.sh install   # apt-get install slurm-wlm munge (Debian/Ubuntu, as root; idempotent)
#   scripts/slurm_local.sh start     # write the config, start munged, slurmctld, slurmd; wait for the node idle
#   eval "$(scripts/slurm_local.sh env)"   # point sinfo/sbatch/sacct/submitit at it (exports SLURM_CONF)
#   scripts/slurm_local.sh status    # the daemons this script started, and sinfo
#   scripts/slurm_local.sh stop      # stop only the daemons this script started (by their pid files)
#
# Everything lives under $SLURM_LOCAL_DIR (default /tmp/mollia-slurm): slurm.conf, the munge key and
# socket, state, spool, logs and pid files; nothing under /etc is written, no system service is touched.
# The config describes THIS host: its CPUs and memory as `slurmd -C` reports them, one node, a default
# partition `main` and a second partition `short` on the same node (so that a test can tell that a
# requested partition reached sbatch). Where the host has no GPU, `gpu` is still declared as a generic
# resource, $SLURM_LOCAL_GPUS of them (default 1) bound to /dev/null (SLURM drops a GPU without a
# device file): bookkeeping only, so that a GPU request is accepted, scheduled and shows in
# `scontrol show job`; the job sees CUDA_VISIBLE_DEVICES but no GPU. SLURM_LOCAL_GPUS=0 declares none.
# Accounting: no slurmdbd, so `sacct` (which needs one) reports "accounting storage is disabled";
# finished jobs are kept in slurmctld for MinJobAge (scontrol show job) and logged by jobcomp/filetxt
# (`sacct -c` reads it).
set -euo pipefail

DIR=${SLURM_LOCAL_DIR:-/tmp/mollia-slurm}
CTLD_PORT=${SLURM_LOCAL_CTLD_PORT:-6817}
SLURMD_PORT=${SLURM_LOCAL_SLURMD_PORT:-6818}
GPUS=${SLURM_LOCAL_GPUS:-1}
CONF=$DIR/etc/slurm.conf
MUNGE_SOCKET=$DIR/munge/munge.socket
TIMEOUT_S=${SLURM_LOCAL_WAIT_S:-60}

die() { echo "slurm_local: $*" >&2; exit 1; }

need() {
    for b in "$@"; do
        command -v "$b" >/dev/null 2>&1 || die "$b not found; run '$0 install' (Debian: apt-get install slurm-wlm munge)"
    done
}

# pid of a daemon this script started, if it is still that daemon (a pid file can outlive its process)
live_pid() {
    local name=$1 file=$2 pid
    [[ -s $file ]] || return 1
    pid=$(tr -dc '0-9' <"$file")
    [[ -n $pid ]] && [[ -r /proc/$pid/comm ]] && [[ $(cat "/proc/$pid/comm") == "$name" ]] || return 1
    echo "$pid"
}

write_config() {
    local host node cpus boards sockets cores threads mem
    host=$(hostname -s)
    # `slurmd -C` prints this host's real layout: NodeName=vm CPUs=2 Boards=1 ... RealMemory=24105
    node=$(slurmd -C | head -1)
    cpus=$(sed -n 's/.*CPUs=\([0-9]*\).*/\1/p' <<<"$node")
    boards=$(sed -n 's/.*Boards=\([0-9]*\).*/\1/p' <<<"$node")
    sockets=$(sed -n 's/.*SocketsPerBoard=\([0-9]*\).*/\1/p' <<<"$node")
    cores=$(sed -n 's/.*CoresPerSocket=\([0-9]*\).*/\1/p' <<<"$node")
    threads=$(sed -n 's/.*ThreadsPerCore=\([0-9]*\).*/\1/p' <<<"$node")
    mem=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$node")
    [[ -n $cpus && -n $mem ]] || die "could not read CPUs/RealMemory from 'slurmd -C': $node"
    [[ $cpus == "$(nproc --all)" ]] || echo "slurm_local: note: slurmd -C says $cpus CPUs, nproc --all $(nproc --all)" >&2
    local gres="" gres_types=""
    if (( GPUS > 0 )); then
        gres=" Gres=gpu:$GPUS"
        gres_types="GresTypes=gpu"
                # one /dev/null per declared GPU: SLURM needs a device file per GPU, none is ever opened
        {
            echo "AutoDetect=off"
            for _ in $(seq "$GPUS"); do echo "NodeName=$host Name=gpu File=/dev/null"; done
        } >"$DIR/etc/gres.conf"
    fi
    cat >"$CONF" <<EOF
# written by scripts/slurm_local.sh for host $host on $(date -u +%Y-%m-%dT%H:%M:%SZ)
ClusterName=mollia-local
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
AuthType=auth/munge
CredType=cred/munge
# cred_expire: also how long a requeued job waits before it may start again (default 120 s); short for fast tests
AuthInfo=socket=$MUNGE_SOCKET,cred_expire=20
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/run/slurmctld.pid
SlurmdPidFile=$DIR/run/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=30
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$DIR/log/jobcomp.txt
# finished jobs stay visible to 'scontrol show job' for 10 minutes (no slurmdbd here)
MinJobAge=600
# seconds between SIGTERM and SIGKILL for a job past its time limit or cancelled: short, for fast tests
KillWait=5
InactiveLimit=0
SlurmctldTimeout=30
SlurmdTimeout=60
$gres_types
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus Boards=${boards:-1} SocketsPerBoard=${sockets:-1} CoresPerSocket=${cores:-$cpus} ThreadsPerCore=${threads:-1} RealMemory=$mem$gres State=UNKNOWN
PartitionName=main Nodes=$host Default=YES MaxTime=INFINITE State=UP
PartitionName=short Nodes=$host Default=NO MaxTime=60 State=UP
EOF
}

start() {
    need munged mungekey slurmctld slurmd sinfo
    if live_pid slurmctld "$DIR/run/slurmctld.pid" >/dev/null && live_pid slurmd "$DIR/run/slurmd.pid" >/dev/null; then
        echo "slurm_local: already running (config $CONF)"
        wait_idle
        return
    fi
    stop quiet
    mkdir -p "$DIR"/{etc,munge,state,spool,log,run}
    chmod 0755 "$DIR"
    chmod 0700 "$DIR/munge"
    rm -rf "$DIR/state"/* "$DIR/spool"/*   # a fresh cluster: no jobs recovered from an earlier run
    [[ -s $DIR/munge/munge.key ]] || mungekey --create --keyfile="$DIR/munge/munge.key" --force
    chmod 0400 "$DIR/munge/munge.key"
    write_config
    munged --force --key-file="$DIR/munge/munge.key" --socket="$MUNGE_SOCKET" --pid-file="$DIR/munge/munged.pid" \
        --log-file="$DIR/log/munged.log" --seed-file="$DIR/munge/munged.seed"
    for _ in $(seq 50); do [[ -S $MUNGE_SOCKET ]] && break; sleep 0.1; done
    [[ -S $MUNGE_SOCKET ]] || die "munged did not create $MUNGE_SOCKET; see $DIR/log/munged.log"
    # -c: do not recover jobs from an earlier run (state was cleared above)
    SLURM_CONF=$CONF slurmctld -c -f "$CONF"
    SLURM_CONF=$CONF slurmd -f "$CONF"
    wait_idle
    echo "slurm_local: up; run:  export SLURM_CONF=$CONF"
}

wait_idle() {
    local state=""
    for _ in $(seq $((TIMEOUT_S * 2))); do
        state=$(SLURM_CONF=$CONF sinfo -h -N -p main -o %t 2>/dev/null | head -1 || true)
        [[ $state == idle* || $state == mix* || $state == alloc* ]] && { SLURM_CONF=$CONF sinfo; return 0; }
        sleep 0.5
    done
    echo "slurm_local: node not idle after ${TIMEOUT_S}s (state '${state}'); logs in $DIR/log" >&2
    tail -5 "$DIR/log/slurmctld.log" "$DIR/log/slurmd.log" >&2 2>/dev/null || true
    return 1
}

stop() {
    local quiet=${1:-} name file pid
    for pair in slurmd:"$DIR/run/slurmd.pid" slurmctld:"$DIR/run/slurmctld.pid" munged:"$DIR/munge/munged.pid"; do
        name=${pair%%:*}
        file=${pair#*:}
        if pid=$(live_pid "$name" "$file"); then
            kill -TERM "$pid"
            for _ in $(seq 100); do [[ -d /proc/$pid ]] || break; sleep 0.1; done
            [[ -d /proc/$pid ]] && kill -KILL "$pid"
            [[ $quiet ]] || echo "slurm_local: stopped $name ($pid)"
        fi
        rm -f "$file"
    done
}

status() {
    local name file pid rc=0
    for pair in munged:"$DIR/munge/munged.pid" slurmctld:"$DIR/run/slurmctld.pid" slurmd:"$DIR/run/slurmd.pid"; do
        name=${pair%%:*}
        file=${pair#*:}
        if pid=$(live_pid "$name" "$file"); then echo "$name running (pid $pid)"; else echo "$name not running"; rc=3; fi
    done
    if (( rc == 0 )); then
        SLURM_CONF=$CONF sinfo
        SLURM_CONF=$CONF slurmctld -V
    fi
    echo "config: $CONF"
    return $rc
}

install() {
    if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null \
        && command -v sbatch >/dev/null; then
        echo "slurm_local: slurm-wlm and munge already installed ($(slurmctld -V))"
        return
    fi
    command -v apt-get >/dev/null || die "no apt-get: install SLURM (slurmctld, slurmd, sbatch, sacct) and munge yourself"
    (( EUID == 0 )) || die "'install' runs apt-get: run it as root"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends slurm-wlm munge
}

case ${1:-} in
    install) install ;;
    start) start ;;
    stop) stop ;;
    status) status ;;
    env) echo "export SLURM_CONF=$CONF" ;;
    *) echo "usage: $0 install|start|stop|status|env   (state in \$SLURM_LOCAL_DIR, default /tmp/mollia-slurm)" >&2; exit 2 ;;
esac
