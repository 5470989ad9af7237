"""`make lab` (scripts/lab.py): installs the named kernel and serves JupyterLab with notebook 00.

The real path is started on a loopback port with a token, asked for its kernels and for notebook
00, then stopped: no server is left running."""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LAB = REPO / "scripts" / "lab.py"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read().decode()


def test_dry_run_names_the_kernel_and_notebook_00():
    out = subprocess.run([sys.executable, str(LAB), "--dry-run", "--no-browser"], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert "ipykernel install --sys-prefix --name mollia" in out[0]
    assert "-m jupyterlab" in out[1] and "/lab/tree/notebooks/00_tour.ipynb" in out[1] and "--no-browser" in out[1].split()
    assert "default_kernel_name=mollia" in out[1]


def test_make_lab_calls_the_script():
    dry = subprocess.run(["make", "-n", "lab", "VPY=python", "LAB_ARGS=--no-browser"], cwd=REPO, capture_output=True,
                         text=True)
    assert dry.returncode == 0, dry.stderr
    assert "scripts/lab.py --no-browser" in dry.stdout


def test_lab_serves_notebook_00_on_the_mollia_kernel(tmp_path):
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path / "config"), JUPYTER_DATA_DIR=str(tmp_path / "data"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "ws"))
    log = (tmp_path / "lab.log").open("w")
    server = subprocess.Popen(
        [sys.executable, str(LAB), "--prefix", str(tmp_path / "kernels"), "--no-browser", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                status, body = _get(f"{base}/api/kernelspecs?token={token}")
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                assert server.poll() is None, f"jupyter lab exited: {(tmp_path / 'lab.log').read_text()[-2000:]}"
                assert time.monotonic() < deadline, "jupyter lab did not answer within 90 s"
                time.sleep(0.5)
        specs = json.loads(body)
        assert status == 200 and specs["default"] == "mollia"
        spec = specs["kernelspecs"]["mollia"]["spec"]
        assert spec["display_name"] == "Python 3 (mollia)" and Path(spec["argv"][0]).resolve() == Path(sys.executable).resolve()
        status, body = _get(f"{base}/api/contents/notebooks/00_tour.ipynb?content=0&token={token}")
        assert status == 200 and json.loads(body)["type"] == "notebook"
        status, page = _get(f"{base}/lab/tree/notebooks/00_tour.ipynb?token={token}")
        assert status == 200 and "JupyterLab" in page
        assert (tmp_path / "kernels" / "share" / "jupyter" / "kernels" / "mollia" / "kernel.json").exists()
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)  # the group this test started (server and kernels)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=10)
        log.close()
    assert server.returncode is not None
