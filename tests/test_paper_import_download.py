"""`download_released` against a local HTTP server and a file:// base URL (GitHub is unreachable
in tests), and `import_released_from` on a local clone laid out like the authors' repository."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

import numpy as np
import pytest

from mollia.errors import CacheError, DataError, UnknownNameError
from mollia.probes.download import (
    RAW_BASE_URL,
    RELEASE_COMMIT,
    RELEASE_FOLDER,
    REPOSITORY,
    DownloadError,
    default_released_dir,
    download_released,
    import_released_from,
    released_file_names,
    released_file_url,
)
from mollia.probes import download
from mollia.probes.paper import load_released

COMMIT = "0123456789abcdef0123456789abcdef01234567"
PINNED = dict(download.RELEASED_SHA256)


@pytest.fixture(autouse=True)
def unpinned(monkeypatch):
    """The transport tests publish synthetic arrays under the real file names: no pins for them
    (the pinned-hash tests below put the real pins back)."""
    monkeypatch.setattr(download, "RELEASED_SHA256", {})


def _arrays(n=12, K=2, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 10, K)), np.eye(K, dtype=np.int64)[rng.integers(0, K, n)]


def _publish(root: Path, dataset="imdb", commit=COMMIT, n=12, K=2, seed=0):
    """Lay out ``root`` as raw.githubusercontent.com would serve the repository at ``commit``."""
    folder = root / REPOSITORY / commit / RELEASE_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    x, y = _arrays(n, K, seed)
    xn, yn = released_file_names(dataset)
    np.save(folder / xn, x)
    np.save(folder / yn, y)
    return folder, x, y


class _Server:
    """A static file server on localhost that counts requests."""

    def __init__(self, root: Path):
        self.requests: list[str] = []
        server = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                server.requests.append(self.path)
                super().do_GET()

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                     functools.partial(Handler, directory=str(root)))
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "srv"
    root.mkdir()
    s = _Server(root)
    s.root = root
    yield s
    s.close()


def test_url_layout():
    assert released_file_url("trec_meta_x.npy") == (
        f"https://raw.githubusercontent.com/qijindou/MoLLIA/{RELEASE_COMMIT}/output_exp/molam_train_data/trec_meta_x.npy")
    assert RELEASE_COMMIT.startswith("f4cbac3") and len(RELEASE_COMMIT) == 40
    assert RAW_BASE_URL == "https://raw.githubusercontent.com"
    assert released_file_names("pubmed-20k-rct") == ("pubmed-20k-rct_meta_x.npy", "pubmed-20k-rct_meta_y.npy")
    with pytest.raises(UnknownNameError):
        released_file_names("sst2")
    with pytest.raises(DataError):
        released_file_url("x.npy", commit="main/../../etc")


def test_download_over_http_then_idempotent(server, tmp_path):
    _, x, y = _publish(server.root)
    dest = tmp_path / "dest"
    out = download_released("imdb", dest, commit=COMMIT, base_url=server.url)
    assert out == dest
    r = load_released(dest, "imdb")
    np.testing.assert_array_equal(r.table.z, x[:, 0::2])
    np.testing.assert_array_equal(r.ground_truth, y.argmax(1))
    assert sorted(server.requests) == sorted(f"/{REPOSITORY}/{COMMIT}/{RELEASE_FOLDER}/{n}"
                                             for n in released_file_names("imdb"))
    # nothing left behind but the two files
    assert sorted(p.name for p in dest.iterdir()) == sorted(released_file_names("imdb"))
    # a second call finds valid files and makes no request, even with the server gone
    server.requests.clear()
    assert download_released("imdb", dest, commit=COMMIT, base_url="http://127.0.0.1:9") == dest
    assert server.requests == []
    # force fetches again
    download_released("imdb", dest, commit=COMMIT, base_url=server.url, force=True)
    assert len(server.requests) == 2


def test_download_from_file_url(tmp_path):
    root = tmp_path / "mirror"
    _publish(root, "ag_news", K=4)
    dest = tmp_path / "dest"
    download_released("ag_news", dest, commit=COMMIT, base_url=root.as_uri())
    assert load_released(dest, "ag_news").table.z.shape == (12, 5, 4)


def test_default_destination_is_under_mollia_home(tmp_path, monkeypatch):
    monkeypatch.setenv("MOLLIA_HOME", str(tmp_path / "home"))
    root = tmp_path / "mirror"
    _publish(root)
    out = download_released("imdb", commit=COMMIT, base_url=root.as_uri())
    assert out == default_released_dir() == tmp_path / "home" / "released" / "molam_train_data"
    assert len(load_released(out, "imdb").table) == 12


def test_real_trec_through_http(server, paper_dir, tmp_path):
    folder = server.root / REPOSITORY / RELEASE_COMMIT / RELEASE_FOLDER
    folder.mkdir(parents=True)
    for name in released_file_names("trec"):
        (folder / name).write_bytes((paper_dir / "probes" / name).read_bytes())
    dest = download_released("trec", tmp_path / "dest", base_url=server.url)
    assert load_released(dest, "trec").table.c.shape == (5452, 5, 6)


def test_lfs_pointer_falls_back_to_media_url(server, tmp_path):
    raw, media = server.root / "raw", server.root / "media"
    folder, x, _ = _publish(media)
    for name in released_file_names("imdb"):
        target = raw / REPOSITORY / COMMIT / RELEASE_FOLDER / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 123\n")
    dest = download_released("imdb", tmp_path / "dest", commit=COMMIT, base_url=f"{server.url}/raw",
                             lfs_base_url=f"{server.url}/media")
    np.testing.assert_array_equal(load_released(dest, "imdb").table.c, x[:, 1::2])
    assert sum(r.startswith("/media/") for r in server.requests) == 2


def test_missing_file_is_a_download_error_and_leaves_dest_clean(server, tmp_path):
    folder, _, _ = _publish(server.root)
    (folder / "imdb_meta_y.npy").unlink()
    dest = tmp_path / "dest"
    with pytest.raises(DownloadError, match="404"):
        download_released("imdb", dest, commit=COMMIT, base_url=server.url)
    assert list(dest.iterdir()) == []


def test_unreachable_host_is_a_download_error(tmp_path):
    with pytest.raises(DownloadError, match="cannot fetch"):
        download_released("imdb", tmp_path / "dest", commit=COMMIT, base_url="http://127.0.0.1:9", timeout=5)


def test_invalid_download_never_replaces_good_files(server, tmp_path):
    dest = tmp_path / "dest"
    _, x_good, _ = _publish(server.root, commit="good")
    download_released("imdb", dest, commit="good", base_url=server.url)
    before = {p.name: p.read_bytes() for p in dest.iterdir()}
    # a commit whose arrays have the wrong shape
    bad = server.root / REPOSITORY / "bad" / RELEASE_FOLDER
    bad.mkdir(parents=True)
    np.save(bad / "imdb_meta_x.npy", np.zeros((12, 7, 2)))
    np.save(bad / "imdb_meta_y.npy", np.eye(2, dtype=np.int64)[np.zeros(12, dtype=int)])
    with pytest.raises(CacheError, match="not valid released probes"):
        download_released("imdb", dest, commit="bad", base_url=server.url, force=True)
    assert {p.name: p.read_bytes() for p in dest.iterdir()} == before


def test_corrupt_local_files_are_fetched_again(server, tmp_path):
    _, x, _ = _publish(server.root)
    dest = tmp_path / "dest"
    dest.mkdir()
    for name in released_file_names("imdb"):
        (dest / name).write_bytes(b"half a file")
    download_released("imdb", dest, commit=COMMIT, base_url=server.url)
    np.testing.assert_array_equal(load_released(dest, "imdb").table.z, x[:, 0::2])


# --- import from a local clone --------------------------------------------------------------

def _clone(root: Path):
    folder = root / "output_exp" / "molam_train_data"
    folder.mkdir(parents=True)
    arrays = {}
    for dataset, K in (("imdb", 2), ("pubmed-20k-rct", 5)):
        x, y = _arrays(9, K, seed=K)
        xn, yn = released_file_names(dataset)
        np.save(folder / xn, x)
        np.save(folder / yn, y)
        arrays[dataset] = x
    return arrays


@pytest.mark.parametrize("sub", ["", "output_exp", "output_exp/molam_train_data"])
def test_import_from_clone(tmp_path, sub):
    arrays = _clone(tmp_path / "MoLLIA")
    dest = tmp_path / "dest"
    copied = import_released_from(tmp_path / "MoLLIA" / sub, dest)
    assert copied == {"imdb": dest, "pubmed-20k-rct": dest}
    for dataset, x in arrays.items():
        np.testing.assert_array_equal(load_released(dest, dataset).table.z, x[:, 0::2])
    # idempotent
    assert import_released_from(tmp_path / "MoLLIA" / sub, dest) == copied


def test_import_named_datasets_and_errors(tmp_path):
    _clone(tmp_path / "MoLLIA")
    dest = tmp_path / "dest"
    assert import_released_from(tmp_path / "MoLLIA", dest, datasets=["imdb"]) == {"imdb": dest}
    assert sorted(p.name for p in dest.iterdir()) == sorted(released_file_names("imdb"))
    with pytest.raises(DataError, match="no released probes"):
        import_released_from(tmp_path / "MoLLIA", dest, datasets=["trec"])
    with pytest.raises(UnknownNameError):
        import_released_from(tmp_path / "MoLLIA", dest, datasets=["sst2"])
    with pytest.raises(DataError, match="no such folder"):
        import_released_from(tmp_path / "nowhere", dest)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no released probes"):
        import_released_from(tmp_path / "empty", dest)


def test_import_validates_before_copying(tmp_path):
    folder = tmp_path / "clone"
    folder.mkdir()
    np.save(folder / "imdb_meta_x.npy", np.zeros((4, 10, 3)))  # K = 3 is not imdb
    np.save(folder / "imdb_meta_y.npy", np.eye(2, dtype=np.int64)[[0, 1, 0, 1]])
    dest = tmp_path / "dest"
    with pytest.raises(DataError, match="shape"):
        import_released_from(folder, dest, datasets=["imdb"])
    assert not dest.exists() or list(dest.iterdir()) == []


def test_import_real_reference_folder(paper_dir, tmp_path):
    copied = import_released_from(paper_dir / "probes", tmp_path / "dest")
    assert set(copied) == {"ag_news", "imdb", "trec"}
    assert load_released(tmp_path / "dest", "trec").table.z.shape == (5452, 5, 6)


def test_pinned_hashes_reject_other_arrays_and_accept_the_release(tmp_path, monkeypatch, paper_dir):
    monkeypatch.setattr(download, "RELEASED_SHA256", PINNED)
    fake = tmp_path / "fake"
    _publish(fake, dataset="trec", n=5452, K=6)
    dest = tmp_path / "dest"
    with pytest.raises(CacheError, match="sha256 .* is not the pinned"):
        download_released("trec", dest, commit=COMMIT, base_url=fake.as_uri())
    assert not any(dest.glob("*.npy"))  # nothing half-installed
    real = tmp_path / "real" / REPOSITORY / COMMIT / RELEASE_FOLDER
    real.mkdir(parents=True)
    for name in released_file_names("trec"):
        (real / name).write_bytes((paper_dir / "probes" / name).read_bytes())
    assert download_released("trec", dest, commit=COMMIT, base_url=(tmp_path / "real").as_uri()) == dest
    assert load_released(dest, "trec").table.z.shape[0] == 5452


def test_demo_downloads_the_released_arrays_by_default_and_says_how_offline(tmp_path, monkeypatch, paper_dir):
    """`make demo`: no arrays found -> fetched (transport stubbed: a file:// mirror of the release,
    sha256-pinned); the download failing (offline) -> a message naming MOLLIA_PAPER_PROBES."""
    from mollia.study.demo import ensure_paper_probes

    monkeypatch.setattr(download, "RELEASED_SHA256", PINNED)
    monkeypatch.delenv("MOLLIA_PAPER_PROBES", raising=False)
    monkeypatch.setenv("MOLLIA_HOME", str(tmp_path / "home"))
    lines = []
    assert ensure_paper_probes(lines.append, base_url="http://127.0.0.1:9", timeout=2) is None  # offline
    assert "download failed" in lines[-1] and "MOLLIA_PAPER_PROBES=" in lines[-1] and "skipped" in lines[-1]
    assert ensure_paper_probes(lines.append, download=False) is None and "--no-download" in lines[-1]
    mirror = tmp_path / "mirror" / REPOSITORY / RELEASE_COMMIT / RELEASE_FOLDER
    mirror.mkdir(parents=True)
    for name in released_file_names("trec"):
        (mirror / name).write_bytes((paper_dir / "probes" / name).read_bytes())
    got = ensure_paper_probes(lines.append, base_url=(tmp_path / "mirror").as_uri())
    assert got == default_released_dir() and "downloading" in lines[-2] and "pinned sha256" in lines[-1]
    from mollia.study.grid import paper_probes_dir

    assert paper_probes_dir() == got  # the demo grid's ${paper_probes_dir} now finds them
    assert ensure_paper_probes(lines.append) == got and "replaying" in lines[-1]  # a second demo: no download
    monkeypatch.setenv("MOLLIA_PAPER_PROBES", str(tmp_path / "nothing"))
    assert ensure_paper_probes(lines.append) is None and "holds no valid released TREC arrays" in lines[-1]
