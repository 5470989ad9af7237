"""An exclusive lock on an AL run folder, so two runs of one ``--out`` never both do the work.

``with run_lock(out_dir, wait=False):`` takes ``fcntl.flock`` on ``out_dir/.run.lock`` and writes
who holds it (pid, host, start time, command) into that file. A second run finds it held and
raises `RunLocked` naming the holder, or, with ``wait``, waits for it to end (and then resumes
or finds the run finished). The kernel drops the lock when its holder exits, however it exits
(a SIGKILL included), so a lock never outlives its run.
"""

from __future__ import annotations

import datetime as _dt
import fcntl
import json
import os
import socket
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from mollia.errors import MolliaError

LOCK_FILE = ".run.lock"


class RunLocked(MolliaError):
    """Another process holds the run folder."""


def _holder(fh) -> str:
    fh.seek(0)
    try:
        info = json.loads(fh.read() or "{}")
    except ValueError:
        info = {}
    if not info:
        return "another process (it has not written its name yet)"
    return (f"pid {info.get('pid')} on host {info.get('host')}, started {info.get('started')} "
            f"({info.get('command', '?')})")


@contextmanager
def run_lock(out_dir: str | Path, wait: bool = False, on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the run folder ``out_dir`` exclusively for the block (see the module docstring)."""
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_FILE
    with open(path, "a+", encoding="utf-8") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fh)
            if not wait:
                raise RunLocked(f"{folder} is in use by {holder}; wait for it to finish (rerun with --wait to "
                                "queue behind it) or use another --out") from None
            if on_wait is not None:
                on_wait(f"{folder} is in use by {holder}; waiting for it to finish ...")
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            fh.seek(0)
            fh.truncate()
            fh.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                 "started": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
                                 "command": " ".join(sys.argv)[:300]}))
            fh.flush()
            yield
        finally:
            fh.seek(0)
            fh.truncate()  # no stale name once released
            fh.flush()
            fcntl.flock(fh, fcntl.LOCK_UN)
