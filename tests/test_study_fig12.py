"""The one Fig. 12 (`mollia.study.fig12`), used by notebooks 02 and 06 and the report."""

import numpy as np

from mollia.probes.table import ProbeTable
from mollia.study import fig12


def _table():
    z = np.array([[[0.7, 0.3]], [[0.2, 0.8]], [[0.6, 0.4]], [[0.1, 0.9]]])
    return ProbeTable("toy", ("neg", "pos"), ("yi-1.5-9b-chat",), np.array([10, 11, 12, 13]), z, np.round(z))


def test_candidates_are_right_for_the_annotator_and_wrong_for_every_baseline():
    truth = np.array([0, 1, 0, 1])
    molam, llms_l, llms_v = np.array([0, 1, 0, 0]), np.array([1, 1, 1, 0]), np.array([1, 0, 0, 0])
    assert fig12.example_candidates(truth, molam, [llms_l, llms_v]).tolist() == [0]
    assert fig12.example_candidates(truth, molam, [llms_l]).tolist() == [0, 2]
    assert fig12.example_candidates(truth, molam, [llms_l], candidates=np.array([2, 3])).tolist() == [2]
    a = fig12.find_examples(truth, molam, [llms_l], None, 1, np.random.default_rng(0))
    b = fig12.find_examples(truth, molam, [llms_l], None, 1, np.random.default_rng(0))
    assert a.tolist() == b.tolist() and len(a) == 1 and a[0] in (0, 2)
    assert fig12.find_examples(truth, molam, [llms_l, llms_v, molam], None, 2, np.random.default_rng(0)).size == 0


def test_record_and_listing_follow_the_papers_layout():
    table, truth = _table(), np.array([0, 1, 0, 1])
    rec = fig12.example_record(table, 2, truth, {"LLMs-L": np.array([1, 1, 1, 1]), "MoLAM": np.array([0, 0, 0, 0])},
                               "a text")
    assert rec["item_id"] == 12 and rec["truth"] == "neg" and rec["labels"] == {"LLMs-L": "pos", "MoLAM": "neg"}
    listing = fig12.format_example(rec).splitlines()
    assert listing[:3] == ['"Label list": ["neg", "pos"]', '"Input text": "a text"', '"GT label": "neg"']
    assert '"YI-logits": [0.600000, 0.400000]' in listing and '"MoLAM label": "neg"' in listing
    fig = fig12.draw_examples(["\n".join(listing)], title="t")
    assert len(fig.axes) == 1
