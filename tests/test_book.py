"""The notebook site (`make book`, `mollia.study.book`): built from a tiny executed notebook, checked
for anything fetched from outside, and rendered in headless Chromium (figures load, equations typeset,
no request leaves the machine)."""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from mollia.study import book

REPO = Path(__file__).resolve().parents[1]
EQUATION = r"$$\mathcal{L}_{neg} = - \sum_{k \in y^-} \log(1 - p(k|x)) \quad (7)$$"


def _png(width: int = 240, height: int = 160) -> bytes:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(width / 80, height / 80), dpi=80)
    ax.plot([0, 1, 2], [0.3, 0.5, 0.6], marker="o")
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def _executed_notebook(title: str):
    """A small notebook with the outputs a kernel would have left: an equation, a figure, a table."""
    png = base64.b64encode(_png()).decode()
    code = new_code_cell("figures.curve_axes(rows)", execution_count=1)
    code.outputs = [new_output("stream", name="stderr", text="AL random/molam:  50%|#####| 1/2 [progress bar]\n"),
                    new_output("display_data", data={"image/png": png, "text/plain": "<Figure>"})]
    table = new_code_cell("frame", execution_count=2)
    table.outputs = [new_output("execute_result", execution_count=2,
                                data={"text/html": "<table><tr><th>micro_f1</th></tr><tr><td>0.6</td></tr></table>",
                                      "text/plain": "micro_f1 0.6"})]
    nb = new_notebook(cells=[new_markdown_cell(f"# {title}\n\n**In the paper:** Eq. 7 and Fig. 4.\n\n"
                                               f"The negative-learning loss {EQUATION} and $z_i$ inline."),
                             code, table])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A built site: two chapters (one executed by a 'demo', one not), a table, a figure."""
    root = tmp_path_factory.mktemp("book")
    notebooks, results, figures = root / "notebooks", root / "results", root / "figures"
    notebooks.mkdir()
    for stem, title in (("00_tour", "00 A tour"), ("03_active_learning", "03 Active learning")):
        stored = _executed_notebook(title)
        for cell in stored.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        nbformat.write(stored, notebooks / f"{stem}.ipynb")
    run = results / "03_active_learning" / "seed=0__0123abcd"
    run.mkdir(parents=True)
    nbformat.write(_executed_notebook("03 Active learning"), run / "notebook.ipynb")
    (run / "params.json").write_text(json.dumps({"dataset": "trec", "seed": 0}))
    (run / "metrics.json").write_text(json.dumps({"kind": "al"}))
    unfinished = results / "03_active_learning" / "seed=1__4567"  # no metrics.json: never shown
    unfinished.mkdir()
    nbformat.write(_executed_notebook("unfinished"), unfinished / "notebook.ipynb")
    (results / "tables").mkdir()
    (results / "tables" / "headline.md").write_text("# Headline\n\n| annotator | random |\n|---|---|\n| oracle | .70 |\n")
    figures.mkdir()
    (figures / "fig04_curves.png").write_bytes(_png(320, 200))
    readme = root / "README.md"
    readme.write_text("# x\n\n## Results of the offline study\n\nSee [the tables](results/tables/) and\n\n"
                      "![curves](figures/fig04_curves.png)\n\n## Architecture\n\nnot on the site\n")
    out = root / "site"
    built = book.build_book(results, out, notebooks=notebooks, figures=figures, readme=readme, progress=False)
    return out, built


def test_site_pages_and_contents(site):
    out, built = site
    names = sorted(p.name for p in built.pages)
    assert names == ["00_tour.html", "03_active_learning.html", "index.html", "results.html"]
    index = (out / "index.html").read_text()
    assert 'href="00_tour.html"' in index and 'href="03_active_learning.html"' in index
    assert "Eq. 7 and Fig. 4" in index  # the chapter's "In the paper" line
    chapter = (out / "03_active_learning.html").read_text()
    assert "results/03_active_learning/seed=0__0123abcd/notebook.ipynb" in chapter  # the finished run, not seed=1
    assert "data:image/png;base64," in chapter and "mathcal{L}_{neg}" in chapter
    assert "progress bar" not in chapter  # stderr (progress bars, warnings) is left out
    assert "Not run by the demo" in (out / "00_tour.html").read_text()
    results = (out / "results.html").read_text()
    assert "Results of the offline study" in results and "not on the site" not in results
    assert 'src="figures/fig04_curves.png"' in results and "<td>.70</td>" in results
    assert (out / "figures" / "fig04_curves.png").exists()
    assert (out / "_static" / "mathjax" / "MathJax.js").exists()
    assert "_static/mathjax/MathJax.js?config=" in chapter and "cdnjs" not in chapter


def test_built_site_fetches_nothing_from_outside(site):
    out, _ = site
    assert book.offline_problems(out) == []


def test_offline_scan_flags_every_kind_of_external_fetch(tmp_path):
    page = """<html><head>
      <script src="https://cdnjs.cloudflare.com/ajax/libs/mathjax/2.7.7/latest.js"></script>
      <link rel="stylesheet" href="//fonts.googleapis.com/css?family=Roboto">
      <style>@import url("https://example.org/x.css"); .a { background: url('https://example.org/b.png') }
             /* a comment naming https://github.com/x is not a fetch */</style>
      <script type="module">const m = await import("https://cdn.example/m.mjs");</script>
    </head><body>
      <img src="http://example.org/i.png"><img src="data:image/png;base64,AAAA"><img src="figures/f.png">
      <div style="background-image: url(https://example.org/c.png)"></div>
      <a href="https://github.com/qijindou/MoLLIA">the authors' code</a>
      <a href="https://tracker.example/page">elsewhere</a><a href="results.html">local</a>
    </body></html>"""
    fetches, links = book.scan_html(page)
    flagged = {url for url in ("cdnjs.cloudflare.com", "//fonts.googleapis.com", "example.org/x.css", "example.org/b.png",
                               "cdn.example/m.mjs", "example.org/i.png", "example.org/c.png") if any(url in f for f in fetches)}
    assert len(flagged) == 7, fetches
    assert not any("github.com" in f or "data:" in f or "figures/f.png" in f for f in fetches)
    assert links == ["https://github.com/qijindou/MoLLIA", "https://tracker.example/page"]
    (tmp_path / "p.html").write_text(page)
    problems = book.offline_problems(tmp_path)
    assert len(problems) == len(fetches) + 1 and any("tracker.example" in p for p in problems)
    assert not any("github.com" in p for p in problems)


def test_a_failed_build_keeps_the_previous_site(tmp_path):
    out = tmp_path / "site"
    out.mkdir()
    (out / "index.html").write_text("previous")
    (tmp_path / "notebooks").mkdir()  # no NN_name.ipynb in it
    with pytest.raises(book.BookError, match="no numbered notebooks"):
        book.build_book(tmp_path / "results", out, notebooks=tmp_path / "notebooks", progress=False)
    assert (out / "index.html").read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".site-")] == []


def test_chosen_run_prefers_the_paper_probes(tmp_path):
    results = tmp_path / "results"
    runs = [(tmp_path / "a" / "notebook.ipynb", {"dataset": "trec", "probes": str(results / "probes" / "live")}),
            (tmp_path / "b" / "notebook.ipynb", {"dataset": "trec", "probes": "/data/paper-probes"}),
            (tmp_path / "c" / "notebook.ipynb", {"dataset": "imdb", "probes": "/data/paper-probes"})]
    assert book.choose_run(runs, {"dataset": "trec"}, results).parent.name == "b"
    assert book.choose_run([], {"dataset": "trec"}, results) is None


def test_make_book_runs_the_module(tmp_path):
    dry = subprocess.run(["make", "-n", "book", "VPY=python"], cwd=REPO, capture_output=True, text=True)
    assert dry.returncode == 0, dry.stderr
    assert "-m mollia.study.book" in dry.stdout


# -- a real browser ---------------------------------------------------------------------------------
CHROME_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1200,1600")


def _browser():
    """(chromium, chromedriver) paths, or None with the reason."""
    chromium = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
    driver = shutil.which("chromedriver")
    if not chromium or not driver:
        return None, ("no headless browser here: install Debian's `chromium` and `chromium-driver` "
                      "(apt-get install -y chromium chromium-driver) to run this test")
    try:
        import selenium  # noqa: F401
    except ImportError:
        return None, "selenium is not installed (the dev extra pins it: pip install -e '.[dev]')"
    return (chromium, driver), ""


def test_site_renders_in_headless_chromium(site, tmp_path):
    found, reason = _browser()
    if found is None:
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait

    chromium, driver_path = found
    out, _ = site
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (*CHROME_FLAGS, f"--user-data-dir={tempfile.mkdtemp(dir=tmp_path)}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})  # every request the pages make
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        driver.set_page_load_timeout(60)
        for page, n_equations in (("03_active_learning.html", 2), ("results.html", 0)):
            driver.get((out / page).as_uri())
            WebDriverWait(driver, 60).until(lambda d: d.execute_script(
                "return document.readyState === 'complete' && Array.from(document.images).every(i => i.complete)"))
            images = driver.execute_script("return Array.from(document.images).map(i => [i.src.slice(0, 60), i.naturalWidth])")
            assert images and all(width > 0 for _, width in images), f"{page}: a figure did not load: {images}"
            if n_equations:
                WebDriverWait(driver, 60).until(lambda d: d.execute_script(
                    "return !!(window.MathJax && MathJax.isReady && MathJax.Hub.queue.pending === 0 "
                    "&& MathJax.Hub.queue.running === 0)"))
                typeset = driver.execute_script(
                    "return [document.querySelectorAll('.MathJax, .MathJax_Display').length,"
                    " document.querySelectorAll('.MathJax_Error, merror').length,"
                    " document.querySelectorAll('script[type^=\"math/tex\"]').length]")
                assert typeset[0] >= n_equations and typeset[1] == 0 and typeset[2] >= n_equations, typeset
        requests = []
        for entry in driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message["method"] == "Network.requestWillBeSent":
                requests.append(message["params"]["request"]["url"])
        leaving = [u for u in requests if u.split(":", 1)[0].lower() in ("http", "https", "ws", "wss", "ftp")]
        assert not leaving, f"the pages fetched from outside: {leaving[:5]}"
        assert any(u.startswith("file:") and "/_static/mathjax/MathJax.js" in u for u in requests), \
            "MathJax was not loaded from the site's own copy"
    finally:
        driver.quit()


def test_chosen_run_treats_the_committed_live_probes_as_live(tmp_path):
    # the demo's TREC live stages replay mollia/data/live_probes (relative, as the grid writes it): a run on
    # them sorts first by folder name ("dataset=trec_..."), yet the chapter shows the paper-probe run
    from mollia.probes.replay import LIVE_PROBES_DIR

    results = tmp_path / "results"
    runs = [(tmp_path / "dataset=trec_a" / "notebook.ipynb", {"dataset": "trec", "probes": str(LIVE_PROBES_DIR)}),
            (tmp_path / "strategy=b" / "notebook.ipynb", {"dataset": "trec", "probes": "/data/paper-probes"})]
    assert book.choose_run(runs, {"dataset": "trec"}, results).parent.name == "strategy=b"
