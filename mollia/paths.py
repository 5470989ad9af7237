"""Where mollia keeps things: caches under MOLLIA_HOME, study outputs under results/.

Nothing is ever written inside the installed package.
"""

from __future__ import annotations

import os
from pathlib import Path


def mollia_home() -> Path:
    """Models and downloads: ``$MOLLIA_HOME``, default ``~/.cache/mollia``."""
    return Path(os.environ.get("MOLLIA_HOME", "~/.cache/mollia")).expanduser()


def results_root() -> Path:
    """Study outputs: ``$MOLLIA_RESULTS``, default ``./results``."""
    return Path(os.environ.get("MOLLIA_RESULTS", "results"))


def figures_root() -> Path:
    """Figures: ``$MOLLIA_FIGURES``, default ``./figures``."""
    return Path(os.environ.get("MOLLIA_FIGURES", "figures"))
