"""Committed benchmark outputs: each bench script writes the table it prints to ``bench/out/<name>.md``
with a header that says how the numbers were obtained (the exact command, threads, date, machine
and its load at the start and the end), so the README can quote a file instead of prose.

    from benchout import BenchRecord
    record = BenchRecord("probe_speed", threads=1)   # captures the command, date, load now
    record.line("| a | b |") ...                       # printed AND kept
    record.write()                                     # bench/out/probe_speed.md, atomically
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import shlex
import subprocess
import sys
from pathlib import Path

from mollia.atomic import write_text

OUT_DIR = Path(__file__).resolve().parent / "out"


def _git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=OUT_DIR.parent.parent, capture_output=True,
                             text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=OUT_DIR.parent.parent,
                               capture_output=True, text=True, timeout=10)
        return out.stdout.strip() + (" (with uncommitted changes)" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f} (1 / 5 / 15 min)"


class BenchRecord:
    """Collects the printed lines of one benchmark and writes them under a provenance header."""

    def __init__(self, name: str, threads: int, argv: list[str] | None = None):
        self.name = name
        self.threads = int(threads)
        argv = sys.argv if argv is None else argv
        self.command = "python " + " ".join(shlex.quote(a) for a in [os.path.relpath(argv[0], OUT_DIR.parent.parent)
                                                                    if argv and os.path.exists(argv[0]) else
                                                                    (argv[0] if argv else name)] + list(argv[1:]))
        self.started = _dt.datetime.now(_dt.timezone.utc)
        self.load_start = _load()
        self.nice = os.nice(0)
        self.commit = _git_commit()  # the code that ran, taken at the start
        self.lines: list[str] = []

    def line(self, text: str = "") -> None:
        print(text, flush=True)
        self.lines.append(text)

    def header(self) -> str:
        ended = _dt.datetime.now(_dt.timezone.utc)
        return "\n".join([
            f"# {self.name}",
            "",
            f"- command: `{self.command}`",
            f"- threads: {self.threads} (torch / BLAS / OpenMP), nice {self.nice}",
            f"- date (UTC): {self.started:%Y-%m-%d %H:%M} to {ended:%H:%M} ({(ended - self.started).total_seconds():.0f} s)",
            f"- machine: {platform.node() or 'unknown'}, {os.cpu_count()} CPU cores, {platform.machine()}, "
            f"Python {platform.python_version()}",
            f"- load average at start: {self.load_start}; at end: {_load()} (a shared machine: other jobs ran "
            "beside this one)",
            f"- code: git {self.commit}",
            "",
        ])

    def write(self, folder: Path | None = None) -> Path:
        folder = OUT_DIR if folder is None else Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        path = write_text(folder / f"{self.name}.md", self.header() + "\n".join(self.lines) + "\n")
        print(f"wrote {path}", file=sys.stderr)
        return path
