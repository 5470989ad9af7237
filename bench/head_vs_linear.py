"""The AL head against a logistic regression on the same frozen embeddings, at the same labels.

Head mode trains an MLP (or linear) head on frozen minilm-l6 embeddings with early stopping on the
validation split. With a small validation split the old rule (keep the first epoch of best
validation micro-F1) can keep an almost untrained epoch: on 30 validation items micro-F1 moves in
steps of 1/30 and is often flat for the first epochs. This bench compares, per seed, on the same
labelled items, validation items and test split:

- ``lr``: scikit-learn ``LogisticRegression()`` (C=1, the default a user reaches for);
- ``lr-cv``: ``LogisticRegressionCV(cv=3)`` (C chosen by 3-fold CV on the labelled items only);
- ``mlp (before)``: the head as it was (hidden 256, dropout .2, lr 1e-3, weight decay .01, batches of
  16, <= 40 epochs, patience 10, epoch kept = first best validation micro-F1);
- ``mlp/f1+loss``: the same head, validation micro-F1 ties broken by the lower validation
  cross-entropy (``ALConfig.selection="f1+loss"``);
- ``mlp (now)``: the default now: f1+loss, and an epoch takes at least 12 optimiser steps (batches
  shrink below 16 for fewer than 192 labelled items: with 50 labels an epoch was 4 steps and the
  patience ran out before the head had learnt much);
- ``linear (now)``: a linear head (``hidden_size=0``, lr 1e-2) with the same rules.

Datasets: offline TREC (6 coarse classes) and ``trec10``: TREC's 10 most frequent fine classes
(HUM:ind, LOC:other, DESC:def, NUM:count, DESC:manner, DESC:desc, NUM:date, ENTY:other,
ENTY:cremat, DESC:reason; 3,533 of 5,452 questions, the offline build's fixed splits kept).
Labels: 50, 125, 250, 550 random train items per seed (ground truth, W=1, no negatives: the
head's learning problem alone); validation: 30 random items of the validation split (a user's small
file) or the whole split; test: the whole test split. Paired differences over seeds with a 95%
t-interval (scipy.stats). Threads: 1 (torch and BLAS).

    OMP_NUM_THREADS=1 python bench/head_vs_linear.py --seeds 5 --datasets trec --out bench/out/head_vs_linear_trec.md
    OMP_NUM_THREADS=1 python bench/head_vs_linear.py --seeds 5 --datasets trec10 --out bench/out/head_vs_linear_trec10.md
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

LABELS = (50, 125, 250, 550)
HEADS = {
    "mlp (before)": dict(hidden_size=256, lr=1e-3, selection="f1", min_steps_per_epoch=1),
    "mlp/f1+loss": dict(hidden_size=256, lr=1e-3, selection="f1+loss", min_steps_per_epoch=1),
    "mlp (now)": dict(hidden_size=256, lr=1e-3, selection="f1+loss", min_steps_per_epoch=12),
    "linear (now)": dict(hidden_size=0, lr=1e-2, selection="f1+loss", min_steps_per_epoch=12),
}
COMMON = dict(dropout=0.2, weight_decay=0.01, epochs=40, patience=10, batch_size=16)


def datasets():
    from mollia.al.backbones.head import head_features
    from mollia.data import load_dataset

    ds = load_dataset("trec")
    frame = ds.frame
    X = head_features("minilm-l6", "trec", ds.texts, 128, "cpu", None, False)
    split = frame["split"].to_numpy()
    yield "trec (6 classes)", X, ds.labels, split
    top = sorted(frame["fine_label"].value_counts().index[:10])
    keep = frame["fine_label"].isin(top).to_numpy()
    y10 = np.searchsorted(np.array(top), frame["fine_label"].to_numpy()[keep])
    yield "trec10 (10 fine classes)", X[keep], y10, split[keep]


def evaluate(X, y, split, n, val_size, seed):
    import torch
    from sklearn.linear_model import LogisticRegression, LogisticRegressionCV

    from mollia.al.backbones.head import HeadBackbone

    K = int(y.max()) + 1
    rng = np.random.default_rng([seed, n, val_size or 0])
    train, val, test = (np.flatnonzero(split == s) for s in ("train", "validation", "test"))
    pos = rng.choice(train, n, replace=False)
    if val_size:
        val = rng.choice(val, val_size, replace=False)
    out = {}
    out["lr"] = float((LogisticRegression(max_iter=5000).fit(X[pos], y[pos]).predict(X[test]) == y[test]).mean())
    cv = LogisticRegressionCV(max_iter=5000, cv=3).fit(X[pos], y[pos])
    out["lr-cv"] = float((cv.predict(X[test]) == y[test]).mean())
    for name, kw in HEADS.items():
        head = HeadBackbone(X, K, **COMMON, **kw)
        head.fit(pos, y[pos], np.ones(n), np.zeros((n, K), dtype=bool), 0.0, val, y[val], seed=seed)
        out[name] = float((head.predict_proba(test).argmax(1) == y[test]).mean())
    torch.set_num_threads(1)
    return out


def markdown_table(rows: list[dict]) -> str:
    columns = list(rows[0])
    out = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    out += ["| " + " | ".join(str(r[c]) for c in columns) + " |" for r in rows]
    return "\n".join(out)


def paired(a, b):
    from scipy import stats

    d = np.asarray(a) - np.asarray(b)
    if len(d) < 2 or d.std(ddof=1) == 0:
        return f"{d.mean():+.3f}"
    lo, hi = stats.t.interval(0.95, len(d) - 1, loc=d.mean(), scale=stats.sem(d))
    return f"{d.mean():+.3f} [{lo:+.3f}, {hi:+.3f}]"


def main() -> None:
    import torch

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--labels", type=int, nargs="+", default=list(LABELS))
    parser.add_argument("--out", type=Path, default=None, help="also write the markdown here")
    parser.add_argument("--datasets", nargs="+", default=["trec", "trec10"], help="trec and/or trec10")
    args = parser.parse_args()
    torch.set_num_threads(1)
    started = time.perf_counter()
    lines = [f"# AL head vs logistic regression on frozen minilm-l6 embeddings",
             "", f"`OMP_NUM_THREADS=1 python bench/head_vs_linear.py --seeds {args.seeds} --datasets {' '.join(args.datasets)}`; test accuracy "
             f"(= micro-F1), mean over {args.seeds} seeds; paired differences with a 95% t-interval over seeds; "
             "1 thread.", ""]
    for title, X, y, split in datasets():
        if title.split()[0] not in args.datasets:
            continue
        for val_size in (30, None):
            rows = []
            for n in args.labels:
                per_seed = [evaluate(X, y, split, n, val_size, s) for s in range(args.seeds)]
                frame = pd.DataFrame(per_seed)
                row = {"labels": n, **{k: f"{frame[k].mean():.3f}" for k in frame.columns}}
                row["mlp (now) - lr"] = paired(frame["mlp (now)"], frame["lr"])
                row["mlp (now) - lr-cv"] = paired(frame["mlp (now)"], frame["lr-cv"])
                row["mlp (now) - mlp (before)"] = paired(frame["mlp (now)"], frame["mlp (before)"])
                rows.append(row)
                print(title, val_size, row, flush=True)
            val_text = f"{val_size} validation items" if val_size else "the whole validation split"
            lines += [f"## {title}, {val_text}", "", markdown_table(rows), ""]
    lines.append(f"Wall time {time.perf_counter() - started:.0f} s, torch threads {torch.get_num_threads()}, "
                 f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}.")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        from mollia.atomic import write_text

        write_text(args.out, text)


if __name__ == "__main__":
    main()
