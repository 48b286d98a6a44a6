"""Run directories and HTML run reports: ``litmus train --run DIR`` then ``litmus report DIR``.

The report is checked by parsing it (``html.parser``: every image decodes as a PNG, the tables
have their rows, nothing external is referenced) and, where Chromium is installed, by loading
it in headless Chromium and reading back what the browser decoded and laid out.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from sklearn.datasets import load_breast_cancer

from litmus_automl.cli import main
from litmus_automl.report import REPORT_FILE, RUN_FILE, TRIALS_FILE, ReportError, write_report

CONFIG = """
tasks:
  - name: cancer
    task: binary
    data: {train: train.csv, test: test.csv}
    schema: {label: target}
    k_fold: 3
algorithm:
  - LogisticRegression
  - {name: XGBoost, search: {n_estimators: {int: [10, 30]}, max_depth: {int: [2, 3]}}}
tune: {method: random, n_trials: 3, seed: 0}
export: bundle
"""


class Page(HTMLParser):
    """What a report holds: its images, its tables (rows of cell texts), pre blocks, tags."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict[str, str]] = []
        self.tables: list[dict[str, Any]] = []
        self.pre: list[str] = []
        self.tags: set[str] = set()
        self.links: list[str] = []
        self._cell: list[str] | None = None
        self._row: list[str] | None = None
        self._in_pre = False
        self._header = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.tags.add(tag)
        self.links += [v for k, v in a.items() if k in ("src", "href")]
        if tag == "img":
            self.images.append(a)
        elif tag == "table":
            self.tables.append({"class": a.get("class", ""), "head": [], "rows": []})
        elif tag == "tr":
            self._row, self._header = [], False
        elif tag in ("td", "th"):
            self._cell = []
            self._header = self._header or tag == "th"
        elif tag == "pre":
            self._in_pre = True
            self.pre.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            table = self.tables[-1]
            if self._header:
                table["head"] = self._row
            else:
                table["rows"].append(self._row)
            self._row = None
        elif tag == "pre":
            self._in_pre = False

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._in_pre:
            self.pre[-1] += data

    def table(self, cls: str) -> list[dict[str, Any]]:
        return [t for t in self.tables if t["class"] == cls]


def parse_report(path: Path) -> Page:
    """Parse a report and check it is self-contained and every image is a PNG that decodes."""
    text = path.read_text(encoding="utf-8")
    page = Page()
    page.feed(text)
    assert "script" not in page.tags and "link" not in page.tags and "iframe" not in page.tags
    assert not re.search(r"url\(|@import", text)  # no external CSS either
    for link in page.links:
        assert link.startswith("data:image/png;base64,"), link[:60]
    for img in page.images:
        data = base64.b64decode(img["src"].split(",", 1)[1], validate=True)
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
        width, height = struct.unpack(">II", data[16:24])
        assert width > 50 and height > 50, img["alt"]
        assert data[-8:-4] == b"IEND"
    return page


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("train_run")
    frame = load_breast_cancer(as_frame=True).frame
    test = frame.sample(frac=0.25, random_state=0)
    frame.drop(test.index).to_csv(root / "train.csv", index=False)
    test.to_csv(root / "test.csv", index=False)
    (root / "config.yaml").write_text(CONFIG)
    assert main(["train", str(root / "config.yaml"), "--run", str(root / "run")]) == 0
    return root / "run"


def test_train_writes_a_small_run_directory(run_dir: Path) -> None:
    assert sorted(p.name for p in run_dir.iterdir()) == [RUN_FILE, TRIALS_FILE]
    doc = json.loads((run_dir / RUN_FILE).read_text())
    (entry,) = doc["results"]
    assert entry["leaderboard"][0]["candidate"] == entry["best"]
    assert {r["candidate"] for r in entry["leaderboard"]} == {"LogisticRegression", "XGBoost"}
    assert len(entry["folds"]["XGBoost"]["accuracy"]) == 3  # the tuned one's folds
    lat = entry["latency"]
    assert 0 < lat["p50_us"] <= lat["p99_us"] and lat["calls"] == 400
    assert entry["bundle"].endswith("bundle") and "== logical plan ==" in entry["plan"]
    trials = json.loads((run_dir / TRIALS_FILE).read_text())
    assert len(trials["task cancer"]["XGBoost"]) == 3
    assert sum(p.stat().st_size for p in run_dir.iterdir()) < 200_000


def test_report_is_self_contained_and_shows_the_run(
    run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", str(run_dir)]) == 0
    assert str(run_dir / REPORT_FILE) in capsys.readouterr().out
    page = parse_report(run_dir / REPORT_FILE)
    doc = json.loads((run_dir / RUN_FILE).read_text())
    board = doc["results"][0]["leaderboard"]
    (leaderboard,) = page.table("leaderboard")
    assert leaderboard["head"][:2] == ["candidate", "algorithm"]
    assert [row[0] for row in leaderboard["rows"]] == [r["candidate"] for r in board]
    column = leaderboard["head"].index("test.accuracy")
    assert [float(row[column]) for row in leaderboard["rows"]] == pytest.approx(
        [r["test.accuracy"] for r in board], rel=1e-3
    )
    (folds,) = page.table("folds")
    assert len(folds["rows"]) == 2 and all("±" in row[1] for row in folds["rows"])
    (latency,) = page.table("latency")
    assert latency["head"][:2] == ["p50 µs", "p99 µs"] and len(latency["rows"]) == 1
    assert {img["alt"] for img in page.images} == {"fold metrics", "tuning curves"}
    assert any("== optimized plan ==" in text for text in page.pre)


def test_report_renders_in_headless_chromium(run_dir: Path, tmp_path: Path) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed (apt-get install chromium); parsed instead")
    write_report(run_dir, tmp_path / "report.html")
    # a copy with a probe: after load, the browser writes what it decoded into the title
    probe = (
        "<script>addEventListener('load',()=>{document.title=JSON.stringify({"
        "images:[...document.images].map(i=>[i.complete,i.naturalWidth,i.naturalHeight]),"
        "rows:[...document.querySelectorAll('table.leaderboard tbody tr')].length,"
        "height:document.body.scrollHeight})})</script></body>"
    )
    html = (tmp_path / "report.html").read_text(encoding="utf-8").replace("</body>", probe)
    (tmp_path / "probe.html").write_text(html, encoding="utf-8")
    out = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom"]
        + [(tmp_path / "probe.html").as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    title = re.search(r"<title>(.*?)</title>", out.stdout, re.S)
    assert title is not None
    seen = json.loads(title.group(1).replace("&quot;", '"'))
    assert len(seen["images"]) == 2
    assert all(done and w > 50 and h > 50 for done, w, h in seen["images"])
    assert seen["rows"] == 2 and seen["height"] > 1000


def test_report_errors_name_the_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ReportError, match="no such run directory"):
        write_report(tmp_path / "missing")
    with pytest.raises(ReportError, match=r"not a run directory \(no run.json"):
        write_report(tmp_path)
    (tmp_path / RUN_FILE).write_text('{"format": "litmus-run", "version": 99, "results": []}')
    with pytest.raises(ReportError, match="version 99"):
        write_report(tmp_path)
    (tmp_path / RUN_FILE).write_text("{not json")
    assert main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("litmus: ") and "run.json: not valid JSON" in err
    assert len(err.strip().splitlines()) == 1
