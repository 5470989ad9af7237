"""metrics.json is written and read through one module (`mollia.records`): every kind declares its
fields, the schema version is checked on read, and the report skips a record it cannot read."""

import json

import pytest

from mollia.records import SCHEMA, RecordError, make_record, read_record, write_record


def test_round_trip_and_field_check(tmp_path):
    rec = make_record("al", done=True, params={"seed": 0}, rows=[])
    assert list(rec)[:2] == ["schema", "kind"] and rec["schema"] == SCHEMA
    assert read_record(write_record(tmp_path / "m.json", rec), kind="al") == rec
    with pytest.raises(RecordError, match="without \\['rows'\\]"):
        make_record("al", done=True, params={})
    with pytest.raises(RecordError, match="unknown record kind"):
        make_record("nope")
    with pytest.raises(RecordError, match="expected 'annotation'"):
        read_record(tmp_path / "m.json", kind="annotation")


def test_other_schema_is_refused_naming_the_file_and_the_report_skips_it(tmp_path):
    from mollia.study.collect import collect

    good = make_record("al", done=True, params={"seed": 0, "initial": 50}, rows=[])
    write_record(tmp_path / "a" / "metrics.json", good)
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "metrics.json").write_text(json.dumps(dict(good, schema=SCHEMA + 1)))
    with pytest.raises(RecordError, match=f"b/metrics.json: record schema {SCHEMA + 1}"):
        read_record(tmp_path / "b" / "metrics.json")
    assert collect(tmp_path).unreadable == [str(tmp_path / "b" / "metrics.json")]
