"""report.html in a real browser (Debian's Chromium driven by Playwright): every image loads,
no request leaves the file, the console stays clean; a screenshot is saved."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import optbench
from optbench.contracts import RunResult
from optbench.store import ResultsStore

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium executable on PATH (Debian: apt-get install chromium)"
)
LADDER = ["1e1", "1e0", "1e-1", "1e-2", "1e-3", "1e-4", "1e-5", "1e-6", "1e-7", "1e-8"]


def results(folder: Path) -> Path:
    """Landscape rows (three problems, two optimizers) and two network runs with curves."""
    rng = np.random.default_rng(0)
    rows, curves = [], []
    for problem in ("beale", "booth", "matyas"):
        for optimizer in ("adam", "bfgs"):
            for start in range(8):
                fev = float(np.round(rng.lognormal(4, 0.5)))
                key = f"{problem}-{optimizer}-{start}"
                rows.append(
                    {
                        "run_key": key,
                        "runner": "landscape",
                        "problem": problem,
                        "optimizer": optimizer,
                        "seed": 0,
                        "start": start,
                        "target": 1e-8,
                        "dim": 2,
                        "status": "converged",
                        "f_gap": 1e-9,
                        "n_fev": fev,
                        "wall_s": 0.01,
                        "env.device": "cpu",
                    }
                    | {f"fev_to.{t}": fev for t in LADDER}
                )
    for i, optimizer in enumerate(("rmsprop", "sgd")):
        rows.append(
            {
                "run_key": f"net{i}",
                "runner": "mnist",
                "problem": "mnist",
                "optimizer": optimizer,
                "seed": 0,
                "status": "budget",
                "epochs": 2,
                "test_acc": 0.9 + i / 100,
                "wall_s": 3.0,
                "env.device": "cpu",
            }
        )
        for epoch in (1, 2):
            for name in ("train_loss", "val_loss", "train_accuracy", "val_accuracy", "lr"):
                curves.append(
                    {"run_key": f"net{i}", "step": epoch, "name": name, "value": 1.0 / epoch}
                )
    ResultsStore(folder).write(RunResult(pd.DataFrame(rows), pd.DataFrame(curves)))
    return folder


def test_report_loads_offline_in_chromium(tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    html = optbench.report(results(tmp_path / "results"), tmp_path / "report")
    requests, errors = [], []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("request", lambda request: requests.append(request.url))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(Path(html).resolve().as_uri())
        page.wait_for_load_state("load")
        images = page.evaluate(
            "Array.from(document.images).map(i => ({complete: i.complete, w: i.naturalWidth}))"
        )
        page.screenshot(path=str(tmp_path / "report" / "screenshot.png"), full_page=True)
        browser.close()
    assert len(images) >= 3  # the ECDF and two network figures at least
    assert all(image["complete"] and image["w"] > 0 for image in images)
    assert [r for r in requests if not r.startswith("data:")] == [Path(html).resolve().as_uri()]
    assert errors == []
    assert (tmp_path / "report" / "screenshot.png").stat().st_size > 10_000
