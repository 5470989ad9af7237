"""Active-learning stage: Algorithm 1, backbones, the robust loss, query strategies, records.

Entry points (import them from their modules; this package stays import-light):

- ``mollia.al.config.ALConfig``: every parameter of a run;
- ``mollia.al.loop.run_al(config, out_dir, score_test=...)``: run or resume one configuration,
  writing ``out_dir/metrics.json`` per iteration (the driver; the test scorer is the study's:
  ``mollia.study.active_learning.run_al(config, out_dir)`` passes it); ``mollia.al.loop.ActiveLearner``: one
  run in memory, one iteration of Algorithm 1 per ``step`` (query, annotate, weight, train, evaluate);
- ``mollia.al.strategies.make_strategy(name)``: the query strategies;
- ``mollia.al.backbones.make_backbone``: ``head:<encoder>`` and ``finetune:<encoder>`` AL models;
- ``mollia.al.loss``: Eqs. 7-9; ``mollia.al.records``: per-iteration records.
Learning-curve plots are the study's (`mollia.study.active_learning`).
"""
