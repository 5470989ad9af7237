"""`make lab`: JupyterLab on the project's venv, with a named kernel, opening notebook 00.

1. installs the kernel "mollia" ("Python 3 (mollia)", this interpreter) with
   ``python -m ipykernel install --sys-prefix --name mollia`` (``--prefix DIR`` to put it elsewhere);
2. starts ``jupyter lab`` in the repository with ``notebooks/00_tour.ipynb`` open and "mollia" as the
   kernel of new notebooks (the stored notebooks name "python3", which in this venv is the same
   interpreter). Any other arguments go to jupyter lab (``--no-browser --port 8899`` ...); as root
   (a container) it adds ``--allow-root``.

``--dry-run`` prints both commands and starts nothing. The server runs in the foreground: Ctrl-C
stops it.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
KERNEL = "mollia"
FIRST_NOTEBOOK = "notebooks/00_tour.ipynb"


def commands(prefix: str | None, lab_args: list[str]) -> tuple[list[str], list[str]]:
    where = ["--prefix", prefix] if prefix else ["--sys-prefix"]
    install = [sys.executable, "-m", "ipykernel", "install", *where, "--name", KERNEL,
               "--display-name", "Python 3 (mollia)"]
    lab = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={REPO}",
           f"--LabApp.default_url=/lab/tree/{FIRST_NOTEBOOK}",
           f"--MappingKernelManager.default_kernel_name={KERNEL}", *lab_args]
    if hasattr(os, "geteuid") and os.geteuid() == 0 and "--allow-root" not in lab_args:
        lab.append("--allow-root")  # containers and CI run as root; jupyter refuses it unless told
    return install, lab


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prefix", default=None, help="install the kernel under this prefix (default: this venv)")
    parser.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    args, lab_args = parser.parse_known_args(argv)
    if not (REPO / FIRST_NOTEBOOK).exists():
        print(f"error: {FIRST_NOTEBOOK} is missing from {REPO}", file=sys.stderr)
        return 2
    install, lab = commands(args.prefix, lab_args)
    if args.dry_run:
        print(shlex.join(install))
        print(shlex.join(lab))
        return 0
    subprocess.run(install, check=True)
    env = dict(os.environ)
    if args.prefix:  # let this server find a kernel installed outside its own prefix
        kernels = str(Path(args.prefix) / "share" / "jupyter")
        env["JUPYTER_PATH"] = os.pathsep.join(p for p in (kernels, env.get("JUPYTER_PATH", "")) if p)
    os.chdir(REPO)
    os.execve(lab[0], lab, env)  # the server replaces this process: signals reach it directly
    return 0  # pragma: no cover


if __name__ == "__main__":
    sys.exit(main())
