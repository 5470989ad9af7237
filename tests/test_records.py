"""metrics.json is written and read through one module (`mollia.records`): one typed class per kind,
the schema version checked on read, missing or mistyped fields refused naming the file, records of
older code migrated, and the report reading the typed records (skipping one it cannot read)."""

import json

import pytest

from mollia.records import (KINDS, RECORD_CLASSES, SCHEMA, ALRecord, AnalysisRecord, AnnotationRecord, ProbingRecord,
                            RecordError, ReportRecord, TourRecord, make_record, parse_record, read_record, write_record)

# one record of each kind, as its writer builds it (required fields + some optional + an extra)
EXAMPLES = {
    "al": dict(done=True, params={"seed": 0, "initial": 50}, rows=[{"iteration": 0, "micro_f1": 0.5}]),
    "annotation": dict(dataset="trec", results={"molam": {"mean": 0.8, "std": 0.01, "per_seed": [0.8]}},
                       params={"n_labelled": 50}, n_items=500, hyperparameters={"max_depth": 6}, figures={"x": "y.png"}),
    "analysis": dict(dataset="trec", annotator="molam", probe_set="paper-llms", baselines=["llms-l", "llms-v"], seed=0,
                     negative_labels={"true_negative_rate": 0.2, "false_negative_rate": 0.001}, qualitative=[],
                     flag_precision=[], accurate_detection=[], n_items=5452),
    "probing": dict(dataset="trec", models=["a", "b"], params={"n": 10}, probe_metadata={"a": {"wall_s": 1.0}},
                    per_model={"a": {"accuracy_z": 0.5}}),
    "report": dict(tables=["table2"], missing={"fig07": "no ablation runs"}, n_metrics=3),
    "tour": dict(n=200, probes="paper-release", final_micro_f1={"molam": 0.7}),
}


def test_every_kind_has_a_class_and_an_example():
    assert set(RECORD_CLASSES) == set(KINDS) == set(EXAMPLES)
    assert KINDS["al"] == ("done", "params", "rows") and KINDS["annotation"] == ("dataset", "results")


@pytest.mark.parametrize("kind", sorted(EXAMPLES))
def test_round_trip_through_the_typed_class(kind, tmp_path):
    written = make_record(kind, **EXAMPLES[kind])
    assert list(written)[:2] == ["schema", "kind"] and written["schema"] == SCHEMA and written["kind"] == kind
    rec = read_record(write_record(tmp_path / "metrics.json", written), kind=kind)
    assert type(rec) is RECORD_CLASSES[kind] and rec.to_dict() == written
    for name, value in EXAMPLES[kind].items():  # declared fields are attributes, extras stay readable
        assert rec[name] == value and rec.get(name) == value
        if name not in rec.extra:
            assert getattr(rec, name) == value
    # a typed record is written as it reads
    again = read_record(write_record(tmp_path / "again.json", rec), kind=kind)
    assert again == rec


def test_typed_fields_and_extras():
    rec = read_or_parse("annotation")
    assert isinstance(rec, AnnotationRecord) and rec.n_items == 500 and rec.results["molam"]["mean"] == 0.8
    assert rec.extra == {"figures": {"x": "y.png"}} and rec.probe_set == ""  # optional field default
    assert isinstance(read_or_parse("al"), ALRecord) and read_or_parse("al").rows[0]["micro_f1"] == 0.5
    assert isinstance(read_or_parse("probing"), ProbingRecord) and isinstance(read_or_parse("report"), ReportRecord)
    assert isinstance(read_or_parse("tour"), TourRecord) and isinstance(read_or_parse("analysis"), AnalysisRecord)


def read_or_parse(kind):
    return parse_record(make_record(kind, **EXAMPLES[kind]), "test")


def test_missing_wrong_type_and_unknown_kind_are_clear_errors(tmp_path):
    with pytest.raises(RecordError, match="'al' record without \\['rows'\\]"):
        make_record("al", done=True, params={})
    with pytest.raises(RecordError, match="'annotation' record field 'results' should be dict, got list"):
        make_record("annotation", dataset="trec", results=[])
    with pytest.raises(RecordError, match="'annotation' record field 'n_items' should be int or None, got str"):
        make_record("annotation", dataset="trec", results={}, n_items="500")
    with pytest.raises(RecordError, match="'al' record field 'done' should be bool, got int"):
        make_record("al", done=1, params={}, rows=[])
    with pytest.raises(RecordError, match="unknown record kind"):
        make_record("nope")
    path = write_record(tmp_path / "m.json", make_record("al", **EXAMPLES["al"]))
    with pytest.raises(RecordError, match="expected 'annotation'"):
        read_record(path, kind="annotation")
    broken = tmp_path / "broken" / "metrics.json"
    broken.parent.mkdir()
    broken.write_text(json.dumps({"schema": SCHEMA, "kind": "analysis", "dataset": "trec"}))
    with pytest.raises(RecordError, match="broken/metrics.json: 'analysis' record without \\['annotator'\\]"):
        read_record(broken)
    with pytest.raises(RecordError, match="unreadable record"):
        read_record(tmp_path / "absent.json")
    with pytest.raises(RecordError):  # a refused write leaves nothing behind
        write_record(tmp_path / "bad.json", {"schema": SCHEMA, "kind": "al", "done": True})
    assert not (tmp_path / "bad.json").exists()


def test_other_schema_is_refused_naming_the_file_and_the_report_skips_it(tmp_path):
    from mollia.study.collect import collect

    good = make_record("al", done=True, params={"seed": 0, "initial": 50}, rows=[])
    write_record(tmp_path / "a" / "metrics.json", good)
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "metrics.json").write_text(json.dumps(dict(good, schema=SCHEMA + 1)))
    with pytest.raises(RecordError, match=f"b/metrics.json: record schema {SCHEMA + 1}, this mollia reads schema {SCHEMA}"):
        read_record(tmp_path / "b" / "metrics.json")
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "metrics.json").write_text(json.dumps({k: v for k, v in good.items() if k != "schema"}))
    with pytest.raises(RecordError, match="record schema None"):
        read_record(tmp_path / "c" / "metrics.json")
    assert collect(tmp_path).unreadable == [str(tmp_path / p / "metrics.json") for p in ("b", "c")]


def test_records_of_older_code_are_migrated(tmp_path):
    """Results written before a field existed (or under its old name) stay readable: the evidence
    run's notebook-06 records have no accurate_detection, early notebook-02 records named Table 5's
    hyperparameters molam_hyperparameters."""
    from mollia.study.collect import collect
    from mollia.study.tables import table5

    analysis = {"schema": SCHEMA, "kind": "analysis", "dataset": "trec", "annotator": "molam", "flag_precision": []}
    rec = parse_record(analysis, "old analysis")
    assert rec.accurate_detection == [] and rec.qualitative == [] and rec.seed is None
    old = {"schema": SCHEMA, "kind": "annotation", "dataset": "bbc_news", "results": {},
           "molam_hyperparameters": {"max_depth": 97}}
    rec = parse_record(old, "old annotation")
    assert rec.hyperparameters == {"max_depth": 97} and "molam_hyperparameters" not in rec.to_dict()
    (tmp_path / "02" / "c").mkdir(parents=True)
    (tmp_path / "02" / "c" / "metrics.json").write_text(json.dumps(old))
    collected = collect(tmp_path)
    assert [type(r) for r in collected.annotation] == [AnnotationRecord]
    tidy, _ = table5(collected)  # the report reads the migrated field (the default would be another depth)
    assert tidy.query("dataset == 'bbc_news' and hyperparameter == 'max_depth'")["ours"].tolist() == [97]
