"""Annotator names are parsed once (`mollia.annotators.spec.AnnotatorSpec`): symmetric single-LLM
and ensemble forms, deprecated spellings that still work with a warning, clear errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from mollia.annotators import make_annotator
from mollia.annotators.spec import AnnotatorSpec
from mollia.annotators.types import LabelledSet
from mollia.errors import DeprecatedNameWarning, UnknownNameError
from mollia.probes.table import ProbeTable

NO_LABELS = LabelledSet(np.array([], dtype=int), np.array([], dtype=int))


def toy_table(n=60, N=3, K=3, seed=0) -> ProbeTable:
    rng = np.random.default_rng(seed)
    z = rng.dirichlet(np.ones(K), size=(n, N))
    c = np.stack([[rng.multinomial(10, p) / 10 for p in z[:, j]] for j in range(N)], axis=1)
    return ProbeTable("toy", tuple(f"l{k}" for k in range(K)), ("alpha-1b", "beta-2b", "gamma-3b"),
                      np.arange(n), z, c)


@pytest.mark.parametrize("name, kind, rule, models", [
    ("llm-l:yi", "single", "logits", ("yi",)),
    ("llm-v:yi-1.5-9b-chat", "single", "vote", ("yi-1.5-9b-chat",)),
    ("llms-l", "ensemble", "logits", ()),
    ("llms-v", "ensemble", "vote", ()),
    ("llms-v:gemma+yi", "ensemble", "vote", ("gemma", "yi")),
    ("molam", "registered", None, ()),
    ("ck-ds-seeded", "registered", None, ()),
])
def test_current_names_parse_without_a_warning(name, kind, rule, models):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        spec = AnnotatorSpec.parse(name)
    assert (spec.kind, spec.rule, spec.models) == (kind, rule, models)
    assert spec.canonical == name and not spec.deprecated


@pytest.mark.parametrize("old, new", [("llm:yi", "llm-l:yi"), ("llm-vote:gemma-2-9b-it", "llm-v:gemma-2-9b-it")])
def test_deprecated_spellings_work_and_warn_naming_the_new_one(old, new):
    with pytest.warns(DeprecationWarning, match=f"write '{new}'") as caught:
        spec = AnnotatorSpec.parse(old)
    assert all(issubclass(w.category, DeprecatedNameWarning) for w in caught)
    assert spec.name == old and spec.canonical == new and spec.deprecated
    assert (spec.kind, spec.rule, spec.models) == (lambda s: (s.kind, s.rule, s.models))(AnnotatorSpec.parse(new))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert AnnotatorSpec.parse(old, warn=False).canonical == new  # names read back from records


@pytest.mark.parametrize("bad", ["nonsense", "llm-x:yi", "llm-l:", "llm-l:a+b", "llms-v:", "llms-v:a+", "", "llm"])
def test_unknown_names_list_the_valid_forms(bad):
    with pytest.raises(UnknownNameError) as err:
        AnnotatorSpec.parse(bad)
    message = str(err.value)
    for form in ("llm-l:<model>", "llm-v:<model>", "llms-v[:<model>+<model>...]", "molam"):
        assert form in message
    with pytest.raises(UnknownNameError):
        make_annotator(bad)


def test_ground_truth_names_only_where_the_caller_grants_them():
    assert AnnotatorSpec.parse("oracle", ground_truth=("oracle", "oracle-robust")).ground_truth
    with pytest.raises(UnknownNameError, match="oracle-robust"):
        AnnotatorSpec.parse("orcale", ground_truth=("oracle", "oracle-robust"))
    with pytest.raises(UnknownNameError):
        AnnotatorSpec.parse("oracle")  # not a probe annotator


def test_old_and_new_spellings_build_the_same_annotator_and_keep_the_name_as_written():
    table = toy_table()
    for old, new in (("llm:beta", "llm-l:beta"), ("llm-vote:beta", "llm-v:beta")):
        with pytest.warns(DeprecationWarning):
            old_ann = make_annotator(old).fit(table, NO_LABELS).annotate()
        new_ann = make_annotator(new).fit(table, NO_LABELS).annotate()
        assert old_ann.method == old and new_ann.method == new
        np.testing.assert_array_equal(old_ann.proba, new_ann.proba)


def test_an_ensemble_of_named_llms_is_the_ensemble_of_the_restricted_table():
    table = toy_table()
    two = table.select_models(["alpha-1b", "gamma-3b"])
    for rule in ("l", "v"):
        subset = make_annotator(f"llms-{rule}:alpha+gamma").fit(table, NO_LABELS).annotate()
        restricted = make_annotator(f"llms-{rule}").fit(two, NO_LABELS).annotate()
        np.testing.assert_allclose(subset.proba, restricted.proba)
        everyone = make_annotator(f"llms-{rule}").fit(table, NO_LABELS).annotate()
        assert not np.allclose(subset.proba, everyone.proba)
    # symmetry: the vote ensemble of one LLM labels as that LLM's vote
    one = make_annotator("llms-v:beta").fit(table, NO_LABELS).annotate()
    single = make_annotator("llm-v:beta").fit(table, NO_LABELS).annotate()
    np.testing.assert_array_equal(one.y_plus, single.y_plus)
    with pytest.raises(UnknownNameError, match="alpha-1b"):
        make_annotator("llms-l:alpha+delta").fit(table, NO_LABELS)


def test_the_study_reads_every_spelling_alike():
    from mollia.study import paper
    from mollia.study.claims import _is_llm_baseline
    from mollia.study.values import CHECKS

    spellings = ("llm:yi", "llm-l:yi", "llm-vote:yi", "llm-v:yi-1.5-9b-chat", "llm-vote:yi-1.5-9b-chat")
    assert {paper.paper_value(paper.TABLE2, m, "trec") for m in spellings} == {0.7682}
    assert paper.paper_value(paper.TABLE2, "llm-l:gemma-3-270m", "trec") is None
    assert paper.table2_label("llm-v:yi-1.5-9b-chat") == paper.table2_label("llm-vote:yi-1.5-9b-chat") == "YI (vote)"
    assert paper.table2_label(paper.canonical_method("llm-l:yi")) == paper.table2_label(paper.canonical_method("llm:yi")) == "YI"
    assert all(_is_llm_baseline(m) for m in (*spellings, "llms-v", "llms-l:gemma+yi"))
    assert not any(_is_llm_baseline(m) for m in ("molam", "oracle", "stack-pl"))
    CHECKS["annotator"]("oracle")  # the grid's validation
    CHECKS["annotator"]("llm-v:yi")
    with pytest.warns(DeprecationWarning):
        CHECKS["annotator"]("llm-vote:yi")
    with pytest.raises(UnknownNameError, match="oracle"):
        CHECKS["annotator"]("llm-vot:yi")
    with pytest.raises(UnknownNameError):
        CHECKS["methods"]("molam,llm-l:yi,nope")


def test_the_cli_reads_names_through_the_spec_and_warns_for_an_old_spelling(tmp_path):
    from mollia.cli import main

    with pytest.warns(DeprecatedNameWarning, match="write 'llm-l:yi'"):
        assert main(["table2", "--probes", str(tmp_path / "none"), "--dataset", "trec", "--methods", "llm:yi"]) == 2
    assert main(["table2", "--probes", str(tmp_path / "none"), "--dataset", "trec", "--methods", "llm-x:yi"]) == 2
