"""The notebook site (`make book`): static HTML of the demo's executed notebooks, the report's
tables and figures and the README's results, readable with no kernel and no network.

``build_book(results, out)`` writes ``out/index.html`` (the chapters, with the part of the paper
each covers), one page per numbered notebook (the executed copy that ``make demo`` left under
``results/<notebook>/<cell>/notebook.ipynb``, chosen by `CHAPTER_RUNS`; the stored notebook
without outputs where the demo did not run it) and ``out/results.html`` (the README's results
section, every table of ``results/tables/`` and every figure of ``figures/``).

Why nbconvert: it is already in the stack (papermill and JupyterLab depend on it), its "lab"
template gives the pages JupyterLab's look, and a template of ours (``book_template/``) can drop
everything it would fetch from a CDN (require.js, mermaid, MathJax): MathJax 2.7.9 is copied
from the pinned ``jupyter-server-mathjax`` wheel into ``out/_static/mathjax``. mkdocs-jupyter's
theme and jupyter-book 2 (a node build) fetch fonts or scripts from outside unless configured
around, and add a second toolchain. `offline_problems` checks every page for anything a browser
would fetch from outside; the build fails if there is any.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Iterable, Sequence
from urllib.parse import urlsplit

from mollia.errors import MolliaError

REPO = Path(__file__).resolve().parents[2]
TEMPLATE_DIR = Path(__file__).resolve().parent / "book_template"
MATHJAX_CONFIG = "TeX-AMS-MML_HTMLorMML-full,Safe"  # the one combined config the wheel ships
CHAPTER = re.compile(r"^(\d\d)_[A-Za-z0-9_]+$")

# Which executed run shows each chapter: the run matching most of these parameters; ties go to
# runs on the paper's replayed probes (not a live probe cache under results/), then by folder name.
CHAPTER_RUNS: dict[str, dict[str, Any]] = {
    "00_tour": {"dataset": "trec"},
    "01_llm_probing": {"dataset": "trec"},
    "02_annotation_models": {"dataset": "trec"},
    "03_active_learning": {"dataset": "trec", "annotator": "molam", "strategy": "random", "seed": 0},
    "04_ablation": {"dataset": "trec", "variant": "D", "seed": 0},
    "05_sensitivity": {"dataset": "trec", "lambda_start": 0.0, "lambda_end": 0.0, "seed": 0},
    "06_analysis": {"dataset": "trec", "annotator": "molam"},
    "07_beyond_the_paper": {"dataset": "trec", "annotator": "stack", "human_budget": 10},
}
TABLE_ORDER = ("headline", "claims", "table2", "table3", "table4", "fig06_accurate", "fig06_flags", "labels", "table5",
               "table6", "cost")
# Plain hyperlinks a page may carry (clicking one is the reader's choice, nothing is fetched on view).
LINK_HOSTS = frozenset({"github.com", "arxiv.org", "doi.org", "aaai.org", "ojs.aaai.org", "huggingface.co",
                        "pypi.org", "scikit-learn.org", "jupyter.org"})
INTRO = """\
# MoLLIA, the notebooks

The study of *Next Generation Active Learning: Mixture of LLMs in the Loop* (Qi et al., AAAI-2026)
as a book: each numbered notebook is one chapter of the paper, executed by `make demo` on this
machine's offline data and models, with the paper's equations, what each call does in its terms,
the figures, and where our numbers depart from the paper's. Start with **00**, a two-minute tour of
the whole pipeline; [Results](results.html) gathers the report's tables and figures.

To run a chapter yourself: `make lab` (JupyterLab on the project's kernel), or
`papermill notebooks/NN_name.ipynb out.ipynb -p name value` with the parameters its first cell lists.
"""


class BookError(MolliaError, RuntimeError):
    """The site cannot be built as asked (no notebooks, a page that would fetch from outside...)."""


@dataclass(frozen=True)
class Chapter:
    stem: str
    title: str
    in_the_paper: str
    stored: Path
    executed: Path | None  # the executed copy shown, None: the stored notebook (no outputs)
    n_runs: int = 0

    @property
    def href(self) -> str:
        return f"{self.stem}.html"


@dataclass
class Book:
    out: Path
    chapters: list[Chapter] = field(default_factory=list)
    pages: list[Path] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)

    def summary(self) -> str:
        executed = sum(c.executed is not None for c in self.chapters)
        return (f"{self.out / 'index.html'}: {len(self.chapters)} chapters ({executed} executed by the demo), "
                f"{len(self.tables)} tables, {len(self.figures)} figures, {len(self.pages)} pages")


# -- choosing what to show --------------------------------------------------------------------------
def _heading_and_paper_line(nb) -> tuple[str, str]:
    first = next((c for c in nb.cells if c.cell_type == "markdown"), None)
    if first is None:
        return "", ""
    lines = first.source.splitlines()
    title = next((ln.lstrip("#").strip() for ln in lines if ln.startswith("#")), "")
    paper = next((ln for ln in lines if ln.startswith("**In the paper")), "")
    paper = re.sub(r"^\*\*In the paper:?\*\*:?\s*", "", paper)
    return title, paper


def _is_live_probe_path(value: Any, results: Path) -> bool:
    """A live probe cache under ``results`` or the committed live probes (not the paper's replayed arrays)."""
    from mollia.probes.replay import LIVE_PROBES_DIR

    if not isinstance(value, str) or not value:
        return False
    path = Path(value)
    path = (path if path.is_absolute() else Path.cwd() / path).resolve()
    for live_root in (results, LIVE_PROBES_DIR):
        try:
            path.relative_to(Path(live_root).resolve())
        except ValueError:
            continue
        return True
    return False


def executed_runs(results: Path, stem: str) -> list[tuple[Path, dict]]:
    """(notebook.ipynb, params) of every finished run of notebook ``stem`` under ``results``."""
    runs = []
    for nb in sorted((results / stem).glob("*/notebook.ipynb")):
        try:
            params = json.loads((nb.parent / "params.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            params = {}
        if (nb.parent / "metrics.json").exists():  # finished (the runner lands a cell only when done)
            runs.append((nb, params if isinstance(params, dict) else {}))
    return runs


def choose_run(runs: Sequence[tuple[Path, dict]], prefer: dict[str, Any], results: Path) -> Path | None:
    def rank(run):
        path, params = run
        matches = sum(1 for k, v in prefer.items() if params.get(k) == v)
        live = any(_is_live_probe_path(params.get(k), results) for k in ("probes", "probes_dir"))
        return (-matches, live, path.parent.name)

    return min(runs, key=rank)[0] if runs else None


def find_chapters(notebooks: Path, results: Path) -> list[Chapter]:
    import nbformat

    chapters = []
    for stored in sorted(notebooks.glob("*.ipynb")):
        if not CHAPTER.match(stored.stem):
            continue
        title, paper = _heading_and_paper_line(nbformat.read(stored, as_version=4))
        runs = executed_runs(results, stored.stem)
        chosen = choose_run(runs, CHAPTER_RUNS.get(stored.stem, {}), results)
        chapters.append(Chapter(stored.stem, title or stored.stem, paper, stored, chosen, len(runs)))
    if not chapters:
        raise BookError(f"no numbered notebooks (NN_name.ipynb) in {notebooks}")
    return chapters


# -- markdown pages -------------------------------------------------------------------------------
def readme_results(readme: Path) -> str:
    """The README's results section (from its '## Results' heading to the next '## ')."""
    if not readme.exists():
        return ""
    text = readme.read_text(encoding="utf-8")
    match = re.search(r"^## Results[^\n]*\n(.*?)(?=^## |\Z)", text, flags=re.M | re.S)
    return match.group(0).strip() if match else ""


def _rewrite_links(markdown: str, site_files: set[str]) -> str:
    """Links to files the site has stay; links to the repository's other files become plain text
    (the site is read without the repository); external links stay (hyperlinks, not fetches)."""

    def fix(match):
        bang, text, target = match.group(1), match.group(2), match.group(3)
        if target.startswith(("http://", "https://", "#", "mailto:")):
            return match.group(0)
        path = target.split("#", 1)[0].rstrip("/")
        if path in site_files:
            return match.group(0)
        if path.startswith("results/tables") or path == "results/tables":
            return f"{text} ([tables](results.html#Tables))" if not bang else ""
        return "" if bang else text

    return re.sub(r"(!?)\[([^\]]*)\]\(([^)\s]+)\)", fix, markdown)


def _demote(markdown: str) -> str:
    return re.sub(r"^(#{1,5}) ", lambda m: "#" + m.group(1) + " ", markdown, flags=re.M)


def _markdown_notebook(cells: Iterable[str], title: str):
    import nbformat
    from nbformat.v4 import new_markdown_cell, new_notebook

    nb = new_notebook(cells=[new_markdown_cell(c) for c in cells if c.strip()])
    nb.metadata["title"] = title
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.validate(nb)
    return nb


def index_cells(chapters: Sequence[Chapter]) -> list[str]:
    rows = ["| chapter | in the paper | this page shows |", "|---|---|---|"]
    for c in chapters:
        shown = (f"the demo's run ({c.n_runs} run{'s' if c.n_runs != 1 else ''} in all)" if c.executed
                 else "the notebook, not run by the demo")
        paper = c.in_the_paper.replace("|", "/") or "-"
        rows.append(f"| [{html.escape(c.title)}]({c.href}) | {paper} | {shown} |")
    return [INTRO, "## Chapters\n\n" + "\n".join(rows)]


def results_cells(readme: Path, tables: Path, figure_names: Sequence[str], site_files: set[str]) -> tuple[list[str], list[str]]:
    cells = ["# Results\n\nThe README's results, the report's tables (`mollia report`, from every run's "
             "`metrics.json`) and its figures, as `make demo` left them."]
    section = readme_results(readme)
    if section:
        cells.append(_rewrite_links(section, site_files))
    names = []
    if tables.is_dir():
        found = {p.relative_to(tables).with_suffix("").as_posix(): p for p in sorted(tables.rglob("*.md"))
                 if p.name != "README.md"}  # subfolders too (e.g. beyond/frontier)
        ordered = [n for n in TABLE_ORDER if n in found] + sorted(set(found) - set(TABLE_ORDER))
        if ordered:
            cells.append("## Tables\n\nFrom `results/tables/` (CSV beside each in the repository).")
        for name in ordered:
            body = _demote(_demote(found[name].read_text(encoding="utf-8")))
            if not body.lstrip().startswith("#"):
                body = f"### {name}\n\n{body}"
            cells.append(_rewrite_links(body, site_files))
            names.append(name)
    if figure_names:
        cells.append("## Figures\n\nEvery figure `mollia report` drew (`figures/`).")
        cells.extend(f"### {Path(f).stem}\n\n![{Path(f).stem}](figures/{f})" for f in figure_names)
    return cells, names


# -- HTML -----------------------------------------------------------------------------------------
def _without_stderr(nb):
    """Progress bars and warnings a run wrote to stderr are noise to a reader: left out of the page."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if not (o.output_type == "stream" and o.get("name") == "stderr")]
    return nb


def mathjax_dir() -> Path:
    import jupyter_server_mathjax

    static = Path(jupyter_server_mathjax.__file__).resolve().parent / "static"
    if not (static / "MathJax.js").exists():
        raise BookError(f"jupyter-server-mathjax has no MathJax.js under {static}: reinstall it (make venv)")
    return static


def exporter():
    from nbconvert import HTMLExporter

    exp = HTMLExporter(template_name="lab", extra_template_paths=[str(TEMPLATE_DIR)],
                       template_file="mollia_book.html.j2")
    exp.mathjax_url = f"_static/mathjax/MathJax.js?config={MATHJAX_CONFIG}"
    exp.exclude_input_prompt = True
    exp.exclude_output_prompt = True
    return exp


def write_page(nb, path: Path, book: dict, title: str | None = None) -> Path:
    if title:
        nb.metadata["title"] = title
    body, _ = exporter().from_notebook_node(nb, resources={"book": book})
    path.write_text(body, encoding="utf-8")
    return path


def build_book(results: str | Path = "results", out: str | Path = "build/book", *,
               notebooks: str | Path | None = None, figures: str | Path = "figures",
               readme: str | Path | None = None, tables: str | Path | None = None,
               progress: bool = True) -> Book:
    """Build the site into ``out`` (replaced only once the new one is complete and offline-clean)."""
    import nbformat

    results, out, figures = Path(results), Path(out), Path(figures)
    notebooks = Path(notebooks) if notebooks is not None else REPO / "notebooks"
    readme = Path(readme) if readme is not None else REPO / "README.md"
    tables = Path(tables) if tables is not None else results / "tables"
    chapters = find_chapters(notebooks, results)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        book = Book(out=out, chapters=chapters)
        shutil.copytree(mathjax_dir(), staging / "_static" / "mathjax")
        figure_names = (sorted(p.relative_to(figures).as_posix() for p in figures.rglob("*.png"))
                        if figures.is_dir() else [])
        for name in figure_names:  # subfolders too (e.g. figures/beyond/)
            (staging / "figures" / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(figures / name, staging / "figures" / name)
        book.figures = figure_names
        site_files = {f"figures/{n}" for n in figure_names}

        pages = [("index.html", "MoLLIA notebooks")] + [(c.href, c.title) for c in chapters] + [("results.html", "Results")]
        nav = {href: {"prev": ({"href": pages[i - 1][0], "title": pages[i - 1][1]} if i > 0 else None),
                      "next": ({"href": pages[i + 1][0], "title": pages[i + 1][1]} if i + 1 < len(pages) else None)}
               for i, (href, _) in enumerate(pages)}

        book.pages.append(write_page(_markdown_notebook(index_cells(chapters), "MoLLIA notebooks"),
                                     staging / "index.html", nav["index.html"]))
        for chapter in chapters:
            nb = _without_stderr(nbformat.read(chapter.executed or chapter.stored, as_version=4))
            if chapter.executed is not None:
                rel = (results / chapter.executed.relative_to(results)).as_posix()
                source = (f"Executed by the demo: {rel} (one of {chapter.n_runs} runs of this notebook; "
                          "its parameters are in the cell marked injected-parameters).")
            else:
                source = (f"Not run by the demo (no finished run under {(results / chapter.stem).as_posix()}/): the notebook "
                          "as stored, without outputs. Run it with make lab.")
            if progress:
                print(f"book: {chapter.href} <- {chapter.executed or chapter.stored}", file=sys.stderr)
            book.pages.append(write_page(nb, staging / chapter.href, dict(nav[chapter.href], source=source),
                                         title=chapter.title))
        cells, book.tables = results_cells(readme, tables, figure_names, site_files)
        book.pages.append(write_page(_markdown_notebook(cells, "Results"), staging / "results.html",
                                     nav["results.html"]))
        problems = offline_problems(staging)
        if problems:
            raise BookError("the site would fetch from outside at view time:\n  " + "\n  ".join(problems[:20]))
        if out.exists():
            shutil.rmtree(out)
        staging.chmod(0o755)  # mkdtemp made it private
        staging.rename(out)
        book.pages = [out / p.name for p in book.pages]
        return book
    finally:
        if staging.exists():
            shutil.rmtree(staging)


# -- the offline check ----------------------------------------------------------------------------
RESOURCE_ATTRS = {"script": ("src",), "link": ("href",), "img": ("src", "srcset"), "iframe": ("src",),
                  "frame": ("src",), "source": ("src", "srcset"), "video": ("src", "poster"), "audio": ("src",),
                  "embed": ("src",), "object": ("data",), "track": ("src",), "input": ("src",),
                  "image": ("href", "xlink:href"), "use": ("href", "xlink:href")}
_CSS_URL = re.compile(r"""url\(\s*['"]?\s*((?:[a-z][a-z0-9+.-]*:)?//[^'")\s]+)""", re.I)
_CSS_IMPORT = re.compile(r"""@import\s+(?:url\()?\s*['"]?((?:[a-z][a-z0-9+.-]*:)?//[^'")\s;]+)""", re.I)
_JS_IMPORT = re.compile(r"""(?:\bimport\s*\(\s*|\bfrom\s+|\bimport\s+)['"]((?:https?:)?//[^'"]+)['"]""")


def _is_external(url: str) -> bool:
    url = url.strip()
    if url.startswith("//"):
        return True
    scheme = urlsplit(url).scheme.lower()
    return scheme not in ("", "data", "blob", "about", "javascript")  # file:/http:/https:/ftp: all leave the site


class _Scanner(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.fetches: list[str] = []
        self.links: list[str] = []
        self._in = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in RESOURCE_ATTRS.get(tag, ()):
            value = attrs.get(name)
            if value:
                urls = [u.strip().split(" ")[0] for u in value.split(",")] if name == "srcset" else [value]
                self.fetches += [f"<{tag} {name}={u}>" for u in urls if _is_external(u)]
        if tag == "a" and attrs.get("href") and _is_external(attrs["href"]):
            self.links.append(attrs["href"])
        style = attrs.get("style") or ""
        self.fetches += [f"<{tag} style url({u})>" for u in _CSS_URL.findall(style)]
        self._in = tag if tag in ("style", "script") else None

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in == "style":
            self.fetches += [f"<style> url({u})" for u in _CSS_URL.findall(data)]
            self.fetches += [f"<style> @import {u}" for u in _CSS_IMPORT.findall(data)]
        elif self._in == "script":
            self.fetches += [f"<script> import {u}" for u in _JS_IMPORT.findall(data)]


def scan_html(text: str) -> tuple[list[str], list[str]]:
    """(resources a browser would fetch from outside the site, external hyperlinks) of one page."""
    scanner = _Scanner()
    scanner.feed(text)
    scanner.close()
    return scanner.fetches, scanner.links


def offline_problems(site: str | Path, link_hosts: Iterable[str] = LINK_HOSTS) -> list[str]:
    """Every external fetch of every page, and every hyperlink to a host outside ``link_hosts``."""
    hosts = set(link_hosts)
    problems = []
    for page in sorted(Path(site).rglob("*.html")):
        if "_static" in page.relative_to(site).parts:
            continue  # MathJax's own files (loaded by relative URL from our pages, never as pages)
        fetches, links = scan_html(page.read_text(encoding="utf-8"))
        problems += [f"{page.name}: fetches {f}" for f in fetches]
        problems += [f"{page.name}: links to {u} (host not in the allowlist)" for u in links
                     if (urlsplit(u).hostname or "") not in hosts]
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mollia.study.book", description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", default=None,
                        help="where `make demo` wrote its runs (default: results/demo, or $MOLLIA_RESULTS)")
    parser.add_argument("--tables", default="results/tables",
                        help="tables of the results page (default: the committed evidence, results/tables)")
    parser.add_argument("--figures", default="figures",
                        help="figures of the results page (default: the committed evidence, figures)")
    parser.add_argument("--out", default="build/book", help="site folder, replaced when complete (default: build/book)")
    parser.add_argument("--notebooks", default=None, help="stored notebooks (default: the repository's notebooks/)")
    args = parser.parse_args(argv)
    try:
        if args.results is None:
            from mollia.study.demo import demo_outputs

            args.results = demo_outputs()[0]
        book = build_book(args.results, args.out, notebooks=args.notebooks, figures=args.figures,
                          tables=args.tables)
    except MolliaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(book.summary())
    missing = [c.stem for c in book.chapters if c.executed is None]
    if missing:
        print(f"not executed by the demo (shown without outputs): {', '.join(missing)}; run `make demo` first")
    return 0


if __name__ == "__main__":
    sys.exit(main())
