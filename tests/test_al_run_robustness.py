"""`mollia al` as a new user meets it (issue 13): one run per --out folder (a lock naming its holder,
or --wait), Ctrl-C ends with where the run stands and exit 130 (the rerun resumes to identical
numbers), a run that empties its pool says so, the progress bar finishes, a damaged metrics.json
says how to recover and is rewritten from the state."""

from __future__ import annotations

import json
import logging
import os
import threading
import time

import pytest

from mollia.al.runlock import RunLocked, run_lock
from mollia.cli import main


ARGS = ["al", "--dataset", "trec", "--annotator", "oracle", "--strategy", "random", "--iterations", "3",
        "--initial", "10", "--batch-size", "10", "--pool-size", "60", "--epochs", "2", "--quiet"]


def test_a_second_run_of_one_folder_says_who_holds_it(fake_encoder, tmp_path, capsys):
    out = tmp_path / "run"
    with run_lock(out):
        assert main(ARGS + ["--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert f"is in use by pid {os.getpid()} on host" in err and "started" in err and "--wait" in err
        assert not (out / "metrics.json").exists()  # it did nothing
    assert main(ARGS + ["--out", str(out)]) == 0  # released: the folder is free again


def test_wait_queues_behind_the_holder(fake_encoder, tmp_path, caplog):
    out = tmp_path / "run"
    held, release = threading.Event(), threading.Event()

    def holder():
        with run_lock(out):
            held.set()
            release.wait(10)

    thread = threading.Thread(target=holder)
    thread.start()
    held.wait(10)
    with pytest.raises(RunLocked):
        with run_lock(out):
            pass
    threading.Timer(0.5, release.set).start()
    started = time.perf_counter()
    with caplog.at_level(logging.WARNING):
        assert main(ARGS + ["--out", str(out), "--wait"]) == 0
    thread.join()
    assert time.perf_counter() - started >= 0.4 and "waiting for it to finish" in caplog.text
    assert json.loads((out / "metrics.json").read_text())["done"]


def test_ctrl_c_says_where_the_run_stands_and_the_rerun_resumes_exactly(fake_encoder, tmp_path, capsys, monkeypatch):
    from mollia.al.loop import ActiveLearner

    whole = tmp_path / "whole"
    assert main(ARGS + ["--out", str(whole)]) == 0
    real_step = ActiveLearner.step

    def interrupted_step(self, iteration):
        if iteration == 2:
            raise KeyboardInterrupt
        return real_step(self, iteration)

    monkeypatch.setattr(ActiveLearner, "step", interrupted_step)
    out = tmp_path / "run"
    assert main(ARGS + ["--out", str(out)]) == 130
    err = capsys.readouterr().err
    assert "mollia: interrupted after iteration 1;" in err and "rerun the same command to resume" in err
    assert "Traceback" not in err
    monkeypatch.setattr(ActiveLearner, "step", real_step)
    assert main(ARGS + ["--out", str(out)]) == 0
    resumed, uninterrupted = (json.loads((d / "metrics.json").read_text()) for d in (out, whole))
    assert [r["micro_f1"] for r in resumed["rows"]] == [r["micro_f1"] for r in uninterrupted["rows"]]


def test_interrupt_before_the_first_iteration(fake_encoder, tmp_path, capsys, monkeypatch):
    from mollia.al.loop import ActiveLearner

    def stop(self):
        raise KeyboardInterrupt

    monkeypatch.setattr(ActiveLearner, "initialize", stop)
    assert main(ARGS + ["--out", str(tmp_path / "run")]) == 130
    assert "interrupted before its first iteration finished" in capsys.readouterr().err


def test_pool_exhausted_is_said_and_the_bar_finishes(fake_encoder, tmp_path, capsys, caplog):
    args = [a for a in ARGS if a != "--quiet"]
    args[args.index("--pool-size") + 1] = "30"
    with caplog.at_level(logging.WARNING):
        assert main(args + ["--out", str(tmp_path / "run"), "--iterations", "5"]) == 0
    assert "pool exhausted after iteration 2: all 30 pool items are labelled" in caplog.text
    err = capsys.readouterr().err
    assert "100%" in err and "3/3" in err  # the bar ends full, at the iterations actually run
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["done"] and metrics["rows"][-1]["iteration"] == 2


def test_a_finished_run_bar_reaches_100_percent(fake_encoder, tmp_path, capsys):
    args = [a for a in ARGS if a != "--quiet"]
    assert main(args + ["--out", str(tmp_path / "run")]) == 0
    err = capsys.readouterr().err
    assert "4/4" in err and "100%" in err and "75%|" not in err.splitlines()[-1]


def test_a_damaged_metrics_json_is_rewritten_from_the_state(fake_encoder, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(ARGS + ["--out", str(out)]) == 0
    good = json.loads((out / "metrics.json").read_text())
    (out / "metrics.json").write_text('{"schema": 1, "rows": [')
    assert main(ARGS + ["--out", str(out)]) == 0
    assert json.loads((out / "metrics.json").read_text()) == good
    (out / "state" / "state.json").write_text("{broken")
    assert main(ARGS + ["--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "corrupt AL record" in err and "state.json" in err and "use another --out" in err
