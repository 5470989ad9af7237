"""Every count argument of the `mollia` verbs is bounded when parsed (issue 13: `--n -5` probed all
but 5 items): a negative or zero count is an argparse error naming the argument."""

from __future__ import annotations

import pytest

from mollia.cli import main

CASES = [
    (["data", "show", "trec"], "--n", "-1"),
    (["data", "add", "f.csv", "--name", "x"], "--n", "-2"),
    (["probe", "run", "--dataset", "trec", "--models", "a"], "--n", "-5"),
    (["probe", "run", "--dataset", "trec", "--models", "a"], "--T", "0"),
    (["table2", "--probes", "p", "--dataset", "trec"], "--seeds", "0"),
    (["table2", "--probes", "p", "--dataset", "trec"], "--n-labelled", "-50"),
    (["al", "--out", "o"], "--iterations", "-1"),
    (["al", "--out", "o"], "--initial", "0"),
    (["al", "--out", "o"], "--batch-size", "-5"),
    (["al", "--out", "o"], "--pool-size", "0"),
    (["al", "--out", "o"], "--epochs", "0"),
    (["al", "--out", "o"], "--seed", "-3"),
    (["grid", "params/smoke.yaml"], "--jobs", "0"),
    (["grid", "params/smoke.yaml"], "--timeout", "-1"),
    (["demo"], "--jobs", "-2"),
]


@pytest.mark.parametrize("argv,flag,value", CASES, ids=[f"{a[0]} {f} {v}" for a, f, v in CASES])
def test_counts_are_bounded(argv, flag, value, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv + [flag, value])
    assert exit_info.value.code == 2
    assert f"argument {flag}: must be" in capsys.readouterr().err


def test_a_non_number_is_named_too(capsys):
    with pytest.raises(SystemExit):
        main(["al", "--out", "o", "--iterations", "ten"])
    assert "argument --iterations: must be an integer >= 0, got 'ten'" in capsys.readouterr().err
