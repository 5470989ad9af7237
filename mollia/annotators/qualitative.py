"""Fig. 12: items where MoLAM is right and both LLM ensembles (LLMs-L, LLMs-V) are wrong.

`find_examples` picks such items (seeded); `format_example` lists each like the paper's figure
(label list, text, ground truth, each LLM's z ("logits") and c ("consis."), the three labels);
`draw_examples` renders the listings as a matplotlib text figure.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from mollia.annotators.types import Annotation
from mollia.atomic import atomic_path
from mollia.errors import DataError
from mollia.probes.table import ProbeTable


def find_examples(ground_truth: np.ndarray, molam: Annotation, logits: Annotation, vote: Annotation,
                  candidates: np.ndarray | None = None, n: int = 2, seed: int = 0) -> np.ndarray:
    """Up to ``n`` row positions (among ``candidates``) where MoLAM is right and both ensembles wrong."""
    gt = np.asarray(ground_truth)
    hit = (molam.y_plus == gt) & (logits.y_plus != gt) & (vote.y_plus != gt)
    if candidates is not None:
        keep = np.zeros_like(hit)
        keep[candidates] = True
        hit &= keep
    pos = np.flatnonzero(hit)
    if len(pos) == 0:
        return pos
    return np.sort(np.random.default_rng(seed).choice(pos, size=min(n, len(pos)), replace=False))


def format_example(table: ProbeTable, pos: int, ground_truth: np.ndarray, labels: Mapping[str, Annotation],
                   text: str | None = None) -> str:
    """The paper's Fig. 12 listing for row ``pos``."""
    names = list(table.label_names)
    from mollia.probes.paper import PAPER_MODEL_SHORT

    lines = [f'"Label list": {json.dumps(names)}',
             f'"Input text": {json.dumps(text if text is not None else "(text not available with these probes)")}',
             f'"GT label": "{names[int(ground_truth[pos])]}"', ""]
    for j, model in enumerate(table.models):
        short = PAPER_MODEL_SHORT.get(model, model).upper()
        lines.append(f'"{short}-logits": [{", ".join(f"{v:.6f}" for v in table.z[pos, j])}]')
        lines.append(f'"{short}-consis.": [{", ".join(f"{v:.1f}" for v in table.c[pos, j])}]')
    lines.append("")
    for method, ann in labels.items():
        lines.append(f'"{method} label": "{names[int(ann.y_plus[pos])]}"')
    return "\n".join(lines)


def draw_examples(listings: Sequence[str], path: str | Path, title: str = "MoLAM right, both ensembles wrong") -> Path:
    """Render the listings side by side as a text figure (saved atomically)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not listings:
        raise DataError("no examples to draw")
    wrapped = ["\n".join(textwrap.fill(line, 70, subsequent_indent="    ") if line else "" for line in block.splitlines())
               for block in listings]
    height = max(b.count("\n") + 1 for b in wrapped) * 0.17 + 0.8
    fig, axes = plt.subplots(1, len(wrapped), figsize=(7.0 * len(wrapped), height), squeeze=False)
    for i, (ax, block) in enumerate(zip(axes.ravel(), wrapped)):
        ax.axis("off")
        ax.text(0.0, 1.0, block, family="monospace", fontsize=8, va="top", ha="left", transform=ax.transAxes)
        ax.set_title(f"({chr(ord('a') + i)})", fontsize=10, loc="left")
    fig.suptitle(title)
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=path.suffix.lstrip(".") or "png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path
