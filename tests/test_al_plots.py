"""The learning-curve plot draws real curves from metrics.json documents."""

import pytest

from mollia.study.active_learning import curve_frame, plot_learning_curves
from mollia.errors import MolliaError


def _doc(f1s):
    return {"rows": [{"iteration": i, "n_labelled": 50 * (i + 1), "micro_f1": f} for i, f in enumerate(f1s)]}


def test_plot_groups_seeds_and_saves_png(tmp_path):
    runs = {"molam#0": _doc([0.5, 0.6, 0.7]), "molam#1": _doc([0.4, 0.6, 0.8]), "oracle#0": _doc([0.5, 0.7, 0.9])}
    frame = curve_frame(runs)
    assert len(frame) == 9 and set(frame["run"]) == set(runs)
    fig = plot_learning_curves(runs, path=tmp_path / "curve.png")
    assert (tmp_path / "curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    ax = fig.axes[0]
    assert sorted(t.get_text() for t in ax.get_legend().get_texts()) == ["molam", "oracle"]
    curves = sorted([round(float(y), 6) for y in line.get_ydata()] for line in ax.get_lines() if len(line.get_ydata()))
    assert curves == [[0.45, 0.6, 0.75], [0.5, 0.7, 0.9]]  # molam: mean over its two seeds; oracle


def test_plot_without_rows_is_an_error():
    with pytest.raises(MolliaError):
        plot_learning_curves({"x": {"rows": []}})
