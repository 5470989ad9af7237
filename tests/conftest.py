"""Shared fixtures.

``paper_dir``: the paper's released reference data (probes/, raw/). Tests may read it; the
shipped project never needs it. Found at $MOLLIA_PAPER_DIR, else ../shared/paper next to the
repository, else /work/shared/paper. Tests that need it skip, saying why, where it is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _find_paper_dir() -> Path | None:
    candidates = [os.environ.get("MOLLIA_PAPER_DIR"), REPO.parent / "shared" / "paper", "/work/shared/paper"]
    for c in candidates:
        if c and (Path(c) / "probes").is_dir():
            return Path(c)
    return None


@pytest.fixture(scope="session")
def paper_dir() -> Path:
    found = _find_paper_dir()
    if found is None:
        pytest.skip("the paper's released probes are not on this machine (set MOLLIA_PAPER_DIR)")
    return found


@pytest.fixture(autouse=True)
def _isolated_results(tmp_path, monkeypatch):
    """Tests never write into the repository's results/ or figures/."""
    monkeypatch.setenv("MOLLIA_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("MOLLIA_FIGURES", str(tmp_path / "figures"))


@pytest.fixture
def fake_encoder(monkeypatch, tmp_path):
    """Deterministic pseudo-embeddings per text, so `mollia al` runs in seconds without the encoder
    (MOLLIA_HOME in tmp_path)."""
    import zlib

    import numpy as np

    monkeypatch.setenv("MOLLIA_HOME", str(tmp_path / "home"))

    def fake(encoder, max_length=128, device="cpu", progress=True):
        def embed(texts):
            return np.stack([np.random.default_rng(zlib.crc32(t.encode())).normal(size=8) for t in texts])
        return embed

    monkeypatch.setattr("mollia.al.backbones.head.encoder_embed_fn", fake)
