"""Source of the study's own notebooks (04, 05, 06, 07, 09), written without outputs by nbformat.

Regenerate after editing: ``python -m mollia.study.nbbuild notebooks``. The notebooks stay thin:
a typed ``parameters`` cell, calls into mollia, displays, and the save of ``out_dir/metrics.json``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

AL_PARAMS = '''\
dataset: str = "trec"  # dataset name (see `mollia data list`)
probes: str = ""  # probe table: cache file/folder or folder of released arrays (empty only for the oracle)
strategy: str = "random"  # query strategy: random, coreset, bemps, noise_stability, entropy, margin
annotator: str = "molam"  # oracle, oracle-robust, molam, llms-v, llms-l, llm:<model>, ...
backbone: str = "head:minilm-l6"  # head:<encoder> (frozen embeddings + head) or finetune:<encoder>
iterations: int = 10  # AL iterations (Algorithm 1)
seed: int = 0  # seed of the initial set, the queries and the training
initial: int = 50  # size of the initial ground-truth labelled set
batch_size: int = 50  # query size B per iteration
epochs: int = 40  # max training epochs per iteration (early stopping, patience 10)
pool_size: int = 0  # cap on the pool (seeded subsample); 0 means the whole pool
device: str = "cpu"  # cpu or cuda
'''

NOTEBOOKS: dict[str, list[tuple[str, str]]] = {
    "04_ablation.ipynb": [
        ("markdown", "# 04 Ablation (Table 4, Fig. 7)\n\nOne AL run of a Table 4 variant: A = negative learning "
                     "+ annotation discrepancy, B = negative learning only, C = discrepancy only, D = neither "
                     "(MoLAM always annotates). The grid sweeps the variants; `mollia report` draws Fig. 7."),
        ("parameters", AL_PARAMS + 'variant: str = "A"  # Table 4 variant: A, B, C or D\n'
                                   'out_dir: str = "results/04_ablation/manual"  # where metrics.json goes (the runner sets it)\n'),
        ("code", "from mollia.al.loop import run_al\nfrom mollia.study.experiments import ablation_switches, al_config\n"
                 "from mollia.study import figures\n\n"
                 "config = al_config(dataset=dataset, probes=probes, strategy=strategy, annotator=annotator, backbone=backbone,\n"
                 "                   iterations=iterations, seed=seed, initial=initial, batch_size=batch_size, epochs=epochs,\n"
                 "                   pool_size=pool_size, device=device, **ablation_switches(variant))\nconfig"),
        ("code", "metrics = run_al(config, out_dir)  # writes out_dir/metrics.json per iteration, resumes\n"
                 "figures.curve_axes(metrics['rows'], label=f'variant {variant}');"),
    ],
    "05_sensitivity.ipynb": [
        ("markdown", "# 05 Sensitivity (Figs. 10, 11)\n\nOne AL run with a given negative-learning weight "
                     "lambda (linear from `lambda_start` to `lambda_end` over the iterations, Eq. 9) and "
                     "discrepancy weight `alpha` (Eq. 8). The grid sweeps them; `mollia report` draws Figs. 10-11."),
        ("parameters", AL_PARAMS + "lambda_start: float = 0.4  # lambda at the first iteration (Eq. 9)\n"
                                   "lambda_end: float = 1.0  # lambda at the last iteration\n"
                                   "alpha: float = 0.5  # weight of a discrepant annotation (Eq. 8)\n"
                                   'out_dir: str = "results/05_sensitivity/manual"  # where metrics.json goes (the runner sets it)\n'),
        ("code", "from mollia.al.loop import run_al\nfrom mollia.study.experiments import al_config\nfrom mollia.study import figures\n\n"
                 "config = al_config(dataset=dataset, probes=probes, strategy=strategy, annotator=annotator, backbone=backbone,\n"
                 "                   iterations=iterations, seed=seed, initial=initial, batch_size=batch_size, epochs=epochs,\n"
                 "                   pool_size=pool_size, device=device, lambda_start=lambda_start, lambda_end=lambda_end,\n"
                 "                   alpha=alpha)\nconfig"),
        ("code", "metrics = run_al(config, out_dir)\n"
                 "figures.curve_axes(metrics['rows'], label=f'lambda {lambda_start}-{lambda_end}, alpha {alpha}');"),
    ],
    "06_analysis.ipynb": [
        ("markdown", "# 06 Analysis (Table 3, Fig. 6, Fig. 12)\n\nNegative labels of an annotator (Eq. 5; Table 3: "
                     "true and false negative labels as shares of the label space), how well annotation "
                     "discrepancy flags wrong annotations against entropy, margin and consistency flags "
                     "(Fig. 6, from the AL runs' records), and qualitative examples where the annotator is right "
                     "and both LLM ensembles are wrong (Fig. 12). The annotator sees only the initial labelled "
                     "set's labels; the ground truth is used here to score it."),
        ("parameters", 'dataset: str = "trec"  # dataset name\n'
                       'probes: str = ""  # probe table: cache file/folder or folder of released arrays\n'
                       'annotator: str = "molam"  # annotator analysed (mollia.annotators name)\n'
                       'baselines: list = ["llms-l", "llms-v"]  # ensembles it is compared with (Fig. 12)\n'
                       "n_labelled: int = 50  # size of the initial labelled set the annotator is fitted on\n"
                       "seed: int = 0  # seed of the labelled set\n"
                       "n_items: int = 0  # analyse a seeded sample of this many probed items (0: all of them)\n"
                       "n_examples: int = 2  # qualitative examples to keep (Fig. 12)\n"
                       'al_results: str = ""  # folder of AL results summarised for Fig. 6 (empty: <results>/03_active_learning)\n'
                       'out_dir: str = "results/06_analysis/manual"  # where metrics.json goes (the runner sets it)\n'),
        ("code", "from IPython.display import display\n\nfrom mollia.study import analysis, figures\n\n"
                 "result = analysis.analyse(dataset=dataset, probes=probes, annotator=annotator, baselines=baselines,\n"
                 "                          n_labelled=n_labelled, seed=seed, n_items=n_items, n_examples=n_examples,\n"
                 "                          al_results=al_results)\n"
                 "display(analysis.negative_label_frame(result))\ndisplay(analysis.accuracy_frame(result))"),
        ("code", "display(analysis.flag_frame(result))\nfor example in result['qualitative']:\n"
                 "    print(analysis.format_example(example))"),
        ("code", "analysis.save(result, out_dir)  # out_dir/metrics.json (kind 'analysis')"),
    ],
    "07_beyond_the_paper.ipynb": [
        ("markdown", "# 07 Beyond the paper: noise-aware LLM-annotated AL and a hybrid human budget\n\n"
                     "The paper closes with *\"Future work may explore hybrid annotation strategies that combine "
                     "LLM-generated and human labels to balance efficiency and accuracy.\"* This notebook runs one "
                     "such configuration: Algorithm 1 with (a) a noise-aware loss on the LLM annotations instead of "
                     "the robust loss of Eqs. 7-9 (`label_loss`: `soft` = the annotator's posterior, `gce`, `sce`, "
                     "`bootstrap`; `confidence_weighting`; `small_loss_forget`; sources in `mollia.al.noisy`), and "
                     "(b) a human budget of `human_budget` items per iteration, the most doubtful of the batch by "
                     "`human_route` (`discrepancy`, `disagreement`, `confidence`; `mollia.al.budget`), the rest "
                     "keeping their LLM labels. The annotator `stack-text` also reads the texts (the AL encoder's "
                     "embeddings). `params/beyond.yaml` sweeps these against oracle AL at the same and at the full "
                     "human budget; `mollia report` draws the cost/accuracy frontier (`results/tables/frontier.md`)."),
        ("parameters", AL_PARAMS + 'negative_learning: bool = True  # negative-learning term (Eq. 7)\n'
                                   'discrepancy: bool = True  # W_d of Eq. 8 on annotated items\n'
                                   'label_loss: str = "ce"  # ce (the paper), soft, gce, sce, bootstrap\n'
                                   'confidence_weighting: bool = False  # weight items by the annotator\'s q(y+|x)\n'
                                   'small_loss_forget: float = 0.0  # co-teaching small-loss selection: share dropped\n'
                                   'human_budget: int = 0  # h: items per iteration labelled by the human oracle\n'
                                   'human_route: str = "discrepancy"  # doubt score: discrepancy, disagreement, confidence\n'
                                   'out_dir: str = "results/07_beyond_the_paper/manual"  # where metrics.json goes (the runner sets it)\n'),
        ("code", "import pandas as pd\n\nfrom mollia.al.loop import run_al\nfrom mollia.study import beyond, figures\n"
                 "from mollia.study.experiments import al_config\n\n"
                 "config = al_config(dataset=dataset, probes=probes, strategy=strategy, annotator=annotator, backbone=backbone,\n"
                 "                   iterations=iterations, seed=seed, initial=initial, batch_size=batch_size, epochs=epochs,\n"
                 "                   pool_size=pool_size, device=device, negative_learning=negative_learning,\n"
                 "                   discrepancy=discrepancy, label_loss=label_loss, confidence_weighting=confidence_weighting,\n"
                 "                   small_loss_forget=small_loss_forget, human_budget=human_budget, human_route=human_route)\nconfig"),
        ("code", "metrics = run_al(config, out_dir)  # writes out_dir/metrics.json per iteration, resumes\n"
                 "pd.DataFrame(metrics['rows'])[['iteration', 'n_labelled', 'micro_f1', 'added_label_accuracy', 'n_human',\n"
                 "                               'n_human_caught', 'trained_label_accuracy']]"),
        ("code", "beyond.human_labels(metrics['params'], metrics['rows'])  # human labels this run spent"),
        ("code", "figures.curve_axes(metrics['rows'], label=f'{annotator} {label_loss} h={human_budget} ({human_route})');"),
    ],
    "09_report.ipynb": [
        ("markdown", "# 09 Report (Tables 2-6, Figs. 4-12)\n\nReads every `metrics.json` under the results "
                     "folder (never an executed notebook) and writes the tables (markdown + CSV) beside the "
                     "paper's own numbers, and the figures (PNG + PDF). Same as `mollia report`."),
        ("parameters", 'results: str = ""  # results root to read (empty: $MOLLIA_RESULTS or ./results)\n'
                       'tables: str = ""  # where tables go (empty: <results>/tables)\n'
                       'figures_dir: str = ""  # where figures go (empty: $MOLLIA_FIGURES or ./figures)\n'
                       'out_dir: str = "results/09_report/manual"  # where metrics.json goes (the runner sets it)\n'),
        ("code", "from pathlib import Path\n\nfrom IPython.display import Markdown, display\n\n"
                 "from mollia.paths import figures_root, results_root\nfrom mollia.study.report import build_report\n\n"
                 "root = Path(results or results_root())\n"
                 "written = build_report(root, Path(tables or root / 'tables'), Path(figures_dir or figures_root()))\n"
                 "print(written.summary())"),
        ("code", "for name, markdown in written.markdown.items():\n    display(Markdown(f'### {name}\\n\\n' + markdown))"),
        ("code", "written.save_metrics(out_dir)  # out_dir/metrics.json (kind 'report')"),
    ],
}


def build(name: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for i, (kind, source) in enumerate(NOTEBOOKS[name]):
        if kind == "markdown":
            cell = nbformat.v4.new_markdown_cell(source)
        else:
            cell = nbformat.v4.new_code_cell(source)
            if kind == "parameters":
                cell.metadata["tags"] = ["parameters"]
        cell["id"] = f"cell-{i}"  # stable ids: regenerating leaves the file unchanged
        nb.cells.append(cell)
    return nb


def write_all(folder: str | Path) -> list[Path]:
    folder = Path(folder)
    paths = []
    for name in NOTEBOOKS:
        path = folder / name
        nbformat.write(build(name), path)
        paths.append(path)
    return paths


if __name__ == "__main__":  # pragma: no cover
    for p in write_all(sys.argv[1] if len(sys.argv) > 1 else "notebooks"):
        print(p)
