"""The one Fig. 12 of the project (notebooks 02 and 06, the report): items where an annotator
(MoLAM) is right and every baseline (LLMs-L, LLMs-V) is wrong, listed like the paper's figure.

- `example_candidates`: every such row position; `find_examples`: up to n of them (seeded, sorted);
- `example_record`: one example as a JSON-ready dict (stored in metrics.json);
- `format_example`: the paper's listing of a record (label list, text, ground truth, each LLM's z
  ("logits") and c ("consis."), each method's label);
- `draw_examples`: the listings side by side as a text figure.
"""

from __future__ import annotations

import json
import textwrap
from typing import Mapping, Sequence

import numpy as np

from mollia.errors import DataError
from mollia.probes.table import ProbeTable


def example_candidates(truth: np.ndarray, right: np.ndarray, wrong: Sequence[np.ndarray],
                       candidates: np.ndarray | None = None) -> np.ndarray:
    """Every row position (among ``candidates``, default all) where the labels ``right`` equal the
    truth and every array of ``wrong`` differs from it."""
    truth = np.asarray(truth)
    hit = np.asarray(right) == truth
    for labels in wrong:
        hit &= np.asarray(labels) != truth
    if candidates is not None:
        keep = np.zeros_like(hit)
        keep[np.asarray(candidates, dtype=np.int64)] = True
        hit &= keep
    return np.flatnonzero(hit)


def find_examples(truth: np.ndarray, right: np.ndarray, wrong: Sequence[np.ndarray], candidates: np.ndarray | None,
                  n: int, rng: np.random.Generator) -> np.ndarray:
    """Up to ``n`` of the `example_candidates`, chosen with ``rng``, sorted."""
    pos = example_candidates(truth, right, wrong, candidates)
    if len(pos) == 0 or n <= 0:
        return pos[:0]
    return np.sort(rng.choice(pos, size=min(n, len(pos)), replace=False))


def example_record(table: ProbeTable, pos: int, truth: np.ndarray, labels: Mapping[str, np.ndarray],
                   text: str | None) -> dict:
    """Row ``pos`` as a record: ids, text, label names, truth, z and c per LLM, ``labels[m][pos]`` per method."""
    names = list(table.label_names)
    item = table.item_ids[pos]
    return {"item_id": item.item() if hasattr(item, "item") else item, "text": text, "label_names": names,
            "truth": names[int(truth[pos])],
            "z": {m: np.round(table.z[pos, j], 6).tolist() for j, m in enumerate(table.models)},
            "c": {m: np.round(table.c[pos, j], 3).tolist() for j, m in enumerate(table.models)},
            "labels": {m: names[int(y[pos])] for m, y in labels.items()}}


def format_example(record: Mapping) -> str:
    """The paper's Fig. 12 listing of an `example_record`."""
    from mollia.probes.paper import PAPER_MODEL_SHORT

    text = record.get("text")
    lines = [f'"Label list": {json.dumps(list(record.get("label_names", [])))}',
             f'"Input text": {json.dumps(text if text is not None else "(text not available with these probes)")}',
             f'"GT label": "{record.get("truth")}"', ""]
    for model, z in (record.get("z") or {}).items():
        short = PAPER_MODEL_SHORT.get(model, model).upper()
        lines.append(f'"{short}-logits": [{", ".join(f"{v:.6f}" for v in z)}]')
        lines.append(f'"{short}-consis.": [{", ".join(f"{v:.1f}" for v in (record.get("c") or {}).get(model, []))}]')
    lines.append("")
    for method, label in (record.get("labels") or {}).items():
        lines.append(f'"{method} label": "{label}"')
    return "\n".join(lines)


def draw_examples(listings: Sequence[str], title: str):
    """A matplotlib figure with the listings side by side (the caller saves it)."""
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
    return fig
