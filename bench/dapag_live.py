"""DA and PAG for real: the offline LLMs' live TREC probes (results/probes, from `mollia probe run`),
30 labelled items, one seed, one augmentation per text, MoLAM beside them. Prints accuracy on the other items.

Usage: python bench/dapag_live.py   (1 torch thread; re-probes augmented texts with the pool's settings)
"""
import time, numpy as np, torch
torch.set_num_threads(1)
from mollia.probes.replay import load_probes
from mollia.data import load_dataset
from mollia.annotators import make_annotator, LabelledSet
t = load_probes("results/probes", "trec")
ds = load_dataset("trec")
frame = ds.frame.set_index("id")
truth = frame.loc[t.item_ids, "label"].to_numpy()
texts = frame["text"].to_dict()
rng = np.random.default_rng(0)
lab = rng.choice(len(t), 30, replace=False)
labelled = LabelledSet(t.item_ids[lab], truth[lab])
rest = np.setdiff1d(np.arange(len(t)), lab)
for name in ["molam", "da", "pag"]:
    t0 = time.time()
    kw = {} if name == "molam" else {"texts": texts, "n_aug": 1}
    a = make_annotator(name, **kw).fit(t, labelled).annotate()
    acc = float((a.y_plus[rest] == truth[rest]).mean())
    print(f"{name}: accuracy on the {len(rest)} other items {acc:.3f}  ({time.time()-t0:.0f} s)", flush=True)
