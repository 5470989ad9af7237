"""Fetch the paper's released probe arrays, from GitHub or from a local clone.

The authors' repository (github.com/qijindou/MoLLIA) keeps them in ``output_exp/molam_train_data``
as ``{stem}_meta_x.npy`` / ``{stem}_meta_y.npy`` (layout: `mollia.probes.paper`). A file of a
repository at a fixed commit is served at::

    https://raw.githubusercontent.com/<owner>/<repo>/<commit sha>/<path in the repository>

(a branch or tag name works in place of the sha; pinning the full sha makes the download
reproducible). Files stored with Git LFS come back from that address as a small text pointer; the
real content is then at ``https://media.githubusercontent.com/media/<owner>/<repo>/<ref>/<path>``,
which `download_released` falls back to.

Writes are atomic and checked: both files are downloaded into a staging folder inside ``dest``,
loaded with `mollia.probes.paper.load_released` (shapes, one-hot ground truth), and only then
moved into place. A second call finds valid files and touches no network.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterable

from mollia.atomic import atomic_path
from mollia.errors import CacheError, DataError, MolliaError, UnknownNameError
from mollia.paths import mollia_home
from mollia.probes.paper import RELEASED_DATASETS, _STEMS, ReleasedProbes, find_released_files, load_released

log = logging.getLogger(__name__)

REPOSITORY = "qijindou/MoLLIA"
RELEASE_COMMIT = "f4cbac37627e23376baa568d46c0334125616f6a"  # "f4cbac3", the commit the reference data came from
RELEASE_FOLDER = "output_exp/molam_train_data"
RAW_BASE_URL = "https://raw.githubusercontent.com"
LFS_BASE_URL = "https://media.githubusercontent.com/media"
# sha256 of the released arrays at RELEASE_COMMIT (taken from the copies the reference data holds);
# a downloaded file must match. pubmed-20k-rct's arrays are not in that copy: they are checked by
# shape and content only (load_released), said so when fetched.
RELEASED_SHA256 = {
    "ag_news_meta_x.npy": "43f534bfaf18fd5e4f2de589b210b0f01157d7e3c33fc02c504df59670dc2df9",
    "ag_news_meta_y.npy": "83f5ebb5376117260d02590a110451c0bca5403ae9a7093a7d30b678712050a7",
    "imdb_meta_x.npy": "e27b29d60d39a03abca8fec661cb557e35247929d57fce5638fb178702eabd20",
    "imdb_meta_y.npy": "16a25d9ee919984be4d34685b803ac04dd97e688445f363ca6aa4574cd58d640",
    "trec_meta_x.npy": "6d5cec334a9853e9b11dcdee2a90ff327c28efe262b17595db7b00a8054e61c3",
    "trec_meta_y.npy": "2d340342c3245521baa6908d5a34589928e86fd0cecf80f972831456d551c0a1",
}
_LFS_POINTER_PREFIX = b"version https://git-lfs.github.com/spec/"
_CHUNK = 1 << 20


class DownloadError(MolliaError):
    """A remote file could not be fetched (network, HTTP status, truncated transfer)."""


def default_released_dir() -> Path:
    """Where downloaded released probes live: ``MOLLIA_HOME/released/molam_train_data``."""
    return mollia_home() / "released" / "molam_train_data"


def released_file_names(dataset: str) -> tuple[str, str]:
    """The file names of ``dataset``'s arrays in the authors' repository."""
    if dataset not in RELEASED_DATASETS:
        raise UnknownNameError("released dataset", dataset, RELEASED_DATASETS)
    stem = _STEMS[dataset][0]
    return f"{stem}_meta_x.npy", f"{stem}_meta_y.npy"


def released_file_url(name: str, commit: str = RELEASE_COMMIT, base_url: str = RAW_BASE_URL,
                      repository: str = REPOSITORY, folder: str = RELEASE_FOLDER) -> str:
    """``{base_url}/{repository}/{commit}/{folder}/{name}``: a raw-file address at a fixed commit."""
    if not commit or any(c in commit for c in "/?# "):
        raise DataError(f"not a commit, branch or tag: {commit!r}")
    return "/".join(part.strip("/") for part in (base_url, repository, commit, folder, name))


def _fetch(url: str, target: Path, timeout: float) -> None:
    """Stream ``url`` into ``target`` (not atomic by itself: ``target`` is a staging file)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(target, "wb") as out:
            expected = response.headers.get("Content-Length") if hasattr(response, "headers") else None
            written = 0
            while chunk := response.read(_CHUNK):
                out.write(chunk)
                written += len(chunk)
    except urllib.error.HTTPError as exc:
        raise DownloadError(f"{url}: HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DownloadError(f"cannot fetch {url}: {reason}") from exc
    if expected is not None and expected.isdigit() and int(expected) != written:
        raise DownloadError(f"{url}: transfer truncated ({written} of {expected} bytes)")


def _is_lfs_pointer(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(len(_LFS_POINTER_PREFIX)) == _LFS_POINTER_PREFIX


def _existing_valid(dest: Path, dataset: str) -> ReleasedProbes | None:
    x_name, y_name = released_file_names(dataset)
    if not ((dest / x_name).exists() and (dest / y_name).exists()):
        return None
    try:
        for name in (x_name, y_name):
            check_pinned_hash(dest / name)
        return load_released(dest, dataset)
    except (DataError, CacheError) as exc:
        log.warning("released probes in %s are invalid (%s); fetching them again", dest, exc)
        return None


def check_pinned_hash(path: Path) -> None:
    """CacheError unless ``path`` has the pinned sha256 of its file name (no pin: nothing to check)."""
    pinned = RELEASED_SHA256.get(path.name)
    if pinned is None:
        return
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    if digest.hexdigest() != pinned:
        raise CacheError(f"{path.name}: sha256 {digest.hexdigest()} is not the pinned {pinned} of the release "
                         f"at {RELEASE_COMMIT[:7]}")


def _install(staging: Path, dest: Path, dataset: str) -> ReleasedProbes:
    """Check the staged pair (pinned sha256, then content), then move each file into ``dest``
    (os.replace: atomic per file)."""
    for name in released_file_names(dataset):
        check_pinned_hash(staging / name)
    released = load_released(staging, dataset)
    for name in released_file_names(dataset):
        os.replace(staging / name, dest / name)
    return released


def download_released(dataset: str, dest: str | Path | None = None, commit: str = RELEASE_COMMIT,
                      base_url: str = RAW_BASE_URL, *, lfs_base_url: str = LFS_BASE_URL,
                      repository: str = REPOSITORY, force: bool = False, timeout: float = 60.0) -> Path:
    """Download ``dataset``'s released arrays (ag_news, imdb, trec, pubmed-20k-rct) into ``dest``.

    ``dest`` defaults to `default_released_dir`. Returns ``dest``, ready for
    ``load_released(dest, dataset)``. Idempotent: valid files already in ``dest`` are kept
    (``force=True`` fetches again). ``base_url`` may be any URL urllib opens (``file://`` too).
    Raises DownloadError (network, HTTP), CacheError/DataError (a downloaded file is not the
    expected array); ``dest`` is never left holding a partial or invalid file.
    """
    names = released_file_names(dataset)
    dest = Path(dest) if dest is not None else default_released_dir()
    dest.mkdir(parents=True, exist_ok=True)
    if not force and _existing_valid(dest, dataset) is not None:
        log.info("released probes for %s already in %s", dataset, dest)
        return dest
    staging = Path(tempfile.mkdtemp(prefix=".download-", dir=dest))
    try:
        for name in names:
            target = staging / name
            url = released_file_url(name, commit, base_url, repository)
            log.info("fetching %s", url)
            _fetch(url, target, timeout)
            if _is_lfs_pointer(target):
                lfs_url = released_file_url(name, commit, lfs_base_url, repository)
                log.info("%s is a Git LFS pointer; fetching %s", url, lfs_url)
                _fetch(lfs_url, target, timeout)
                if _is_lfs_pointer(target):
                    raise DownloadError(f"{lfs_url} still serves a Git LFS pointer, not the array")
        try:
            _install(staging, dest, dataset)
        except (DataError, CacheError) as exc:
            raise CacheError(f"downloaded files for {dataset!r} from {base_url} are not valid released probes: {exc}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return dest


def import_released_from(folder: str | Path, dest: str | Path | None = None,
                         datasets: Iterable[str] | None = None) -> dict[str, Path]:
    """Copy released arrays from a local clone of the authors' repository (its root,
    ``output_exp/`` or ``output_exp/molam_train_data``, or any folder laid out like it) into ``dest``.

    ``datasets`` None copies every released dataset found there (at least one must be). Each copy
    is validated with `load_released` first, and written atomically. Returns {dataset: dest}.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"no such folder: {folder}")
    dest = Path(dest) if dest is not None else default_released_dir()
    wanted = list(RELEASED_DATASETS) if datasets is None else list(datasets)
    for name in wanted:
        if name not in RELEASED_DATASETS:
            raise UnknownNameError("released dataset", name, RELEASED_DATASETS)
    copied: dict[str, Path] = {}
    for name in wanted:
        try:
            sources = find_released_files(folder, name)
        except DataError:
            if datasets is None:
                continue  # importing "whatever is there"
            raise
        load_released(folder, name)  # validates before anything is written
        for src, dst_name in zip(sources, released_file_names(name)):
            if (dest / dst_name).resolve() == src.resolve():
                continue
            with atomic_path(dest / dst_name) as tmp:
                shutil.copyfile(src, tmp)
        copied[name] = dest
    if not copied:
        raise DataError(f"no released probes under {folder} (looked for {', '.join(RELEASED_DATASETS)} "
                        f"in ., molam_train_data, output_exp/molam_train_data)")
    return copied
