"""optbench report: sections only with data, table numbers equal to the rollups, offline HTML."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import optbench
from optbench import OptimizerEntry, Study, rollup, run_study
from optbench.cli import main
from optbench.contracts import RunResult
from optbench.report.render import cell
from optbench.store import ResultsStore


@pytest.fixture(scope="module")
def small_study(tmp_path_factory):
    """Two 2-D landscapes, an optax and a scipy optimizer, 6 starts."""
    out = tmp_path_factory.mktemp("study")
    study = Study(
        problems=("beale", "booth"),
        optimizers=(OptimizerEntry("adam", {"learning_rate": 0.1}), OptimizerEntry("l-bfgs-b")),
        starts=6,
        budget={"steps": 300},
    )
    run_study(study, out, quiet=True)
    return out


@pytest.fixture(scope="module")
def small_report(small_study, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    optbench.report(small_study, out)
    return out


def headings(text: str) -> list[str]:
    return re.findall(r"^## (.+)$", text, flags=re.M)


def md_rows(text: str, section: str) -> list[list[str]]:
    body = text.split(f"## {section}")[1].split("\n## ")[0]
    lines = [line for line in body.splitlines() if line.startswith("| ")]
    return [[c.strip().strip("*") for c in line.strip("|").split(" | ")] for line in lines]


def test_sections_present_only_with_data(small_report):
    text = (small_report / "report.md").read_text()
    found = headings(text)
    assert found[:4] == ["Leaderboard", "Overall ranking", "Runtime ECDF", "Convergence"]
    assert "Provenance" in found
    assert "Networks" not in found
    assert "Performance profiles and win rates" not in found  # 2 problems < 5


def test_leaderboard_numbers_equal_rollups(small_study, small_report):
    runs = optbench.load_results(small_study).runs
    summary = rollup.summary(runs, targets=(1e-4,)).set_index(["problem", "label"])
    rows = md_rows((small_report / "report.md").read_text(), "Leaderboard")
    header, body = rows[0], rows[1:]
    assert len(body) == len(summary)
    for row in body:
        values = dict(zip(header, row, strict=True))
        expected = summary.loc[(values["landscape"], values["setting"])]
        k = round(expected["success"] * expected["runs"])
        assert values["ok@1e-8"] == f"{k}/{int(expected['runs'])}"
        k4 = round(expected["success.1e-4"] * expected["runs"])
        assert values["ok@1e-4"] == f"{k4}/{int(expected['runs'])}"
        assert values["ERT"] == cell(float(expected["ert"]))
        assert values["median gap"] == cell(float(expected["median_gap"]))
    ranking = rollup.ranking(runs)
    ranked = md_rows((small_report / "report.md").read_text(), "Overall ranking")
    assert [r[1] for r in ranked[1:]] == ranking["label"].tolist()


def test_html_is_offline_and_files_deterministic(small_study, small_report, tmp_path):
    html = (small_report / "report.html").read_text()
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    sources = re.findall(r'<img src="([^"]+)"', html)
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)
    assert not re.search(r"(src|href)=\"(https?:)?//", html)
    pngs = sorted(p.name for p in small_report.glob("*.png"))
    assert pngs == [  # beale and booth are both unimodal: one convergence figure, two panels
        "convergence-unimodal.png",
        "ecdf.png",
        "landscape-beale.png",
        "landscape-booth.png",
    ]
    again = CliRunner().invoke(main, ["report", str(small_study), "-o", str(tmp_path)])
    assert again.exit_code == 0, again.output
    for name in pngs:
        assert (tmp_path / name).read_bytes() == (small_report / name).read_bytes()


def network_results(tmp_path):
    """Two network runs with epoch curves, as the MNIST runner stores them."""
    rows, curves = [], []
    for i, (optimizer, acc) in enumerate((("rmsprop", 0.975), ("sgd", 0.95))):
        key = f"net{i}"
        rows.append(
            {
                "run_key": key,
                "runner": "mnist",
                "problem": "mnist",
                "optimizer": optimizer,
                "seed": 0,
                "status": "converged",
                "epochs": 3,
                "test_acc": acc,
                "best_val_acc": acc + 0.001,
                "time_to_target": 2.5,
                "epochs_to_target": 2,
                "epoch_s": 1.2,
                "wall_s": 4.0,
                "env.device": "cpu",
            }
        )
        for epoch in (1, 2, 3):
            for name, value in (
                ("train_loss", 1 / epoch),
                ("val_loss", 1.1 / epoch),
                ("train_accuracy", 0.9 + epoch / 100),
                ("val_accuracy", 0.89 + epoch / 100),
                ("lr", 0.001),
            ):
                curves.append({"run_key": key, "step": epoch, "name": name, "value": value})
    folder = tmp_path / "net"
    ResultsStore(folder).write(RunResult(pd.DataFrame(rows), pd.DataFrame(curves)))
    return folder


def test_network_section(tmp_path):
    out = tmp_path / "report"
    optbench.report(network_results(tmp_path), out)
    text = (out / "report.md").read_text()
    assert headings(text) == ["Networks", "Provenance"]
    rows = md_rows(text, "Networks")
    values = dict(zip(rows[0], rows[1], strict=True))
    assert values["setting"] == "rmsprop" and values["test acc"] == "0.975"
    assert sorted(p.name for p in out.glob("*.png")) == [
        "network-01-rmsprop.png",
        "network-02-sgd.png",
    ]


def test_missing_folder_is_a_usage_error(tmp_path):
    out = CliRunner().invoke(main, ["report", str(tmp_path / "nowhere"), "-o", str(tmp_path)])
    assert out.exit_code == 2 and "does not exist" in out.output


def test_ert_intervals_hold_the_ert():
    from optbench.report.tables import ert_intervals

    hit = np.array([True, False, True, True])
    spent = np.array([10.0, 50.0, 20.0, 30.0])
    other = np.array([True, True, False, False, True, False])
    cost = np.array([5.0, 7.0, 90.0, 90.0, 9.0, 90.0])
    intervals = ert_intervals([(hit, spent), (np.zeros(3, bool), spent[:3]), (other, cost)])
    assert intervals[0, 0] <= 110 / 3 <= intervals[0, 1]
    assert intervals[2, 0] <= 291 / 3 <= intervals[2, 1]
    assert intervals[0, 0] >= 10.0 and intervals[2, 0] >= 5.0  # never below the cheapest success
    assert intervals[1].tolist() == [np.inf, np.inf]
    single = ert_intervals([(np.array([True]), np.array([12.0]))])
    assert single.tolist() == [[12.0, 12.0]]


def test_ert_intervals_batched_equal_scipy_one_cell_at_a_time():
    from scipy import stats

    from optbench.report.tables import ert_intervals, success_per_evaluation

    rng = np.random.default_rng(3)
    cells = [(rng.random(20) < 0.5, rng.uniform(10, 100, 20)) for _ in range(5)]
    batched = ert_intervals(cells)
    for i, (hit, spent) in enumerate(cells):
        alone = stats.bootstrap(
            (hit.astype(float), spent),
            success_per_evaluation,
            n_resamples=999,
            paired=True,
            vectorized=True,
            method="percentile",
            rng=0,
        ).confidence_interval
        assert batched[i].tolist() == pytest.approx([1 / alone.high, 1 / alone.low], rel=1e-12)
        assert batched[i, 0] <= spent.sum() / hit.sum() <= batched[i, 1]


def test_landscape_view_clips_each_path_to_its_panel():
    from optbench.report.frames import optimizer_colours
    from optbench.report.views import landscape_view

    outside = np.array([[0.0, 0.0], [-40.0, 30.0], [-10.0, 0.0]])  # bukin6: x in [-15, -5]
    paths = {name: [outside] for name in ("adam", "sgd", "bfgs")}
    fig = landscape_view("bukin6", {"dim": 2}, paths, optimizer_colours(["adam", "sgd", "bfgs"]))
    fig.canvas.draw()
    (ax,) = fig.axes
    panel = ax.bbox.width / 3 / 1.04  # three panels a row, a small gap between them
    boxes = [line.get_clip_box() for line in ax.lines]
    assert len(boxes) == 3 * 5  # stars, halo, path, starts, ends per panel
    for box in boxes:
        assert box.width == pytest.approx(panel, rel=0.02)
        assert box.height == pytest.approx(panel, rel=0.02)
    lefts = sorted({round(box.x0) for box in boxes})
    assert len(lefts) == 3  # each panel clips to its own square


def test_convergence_legend_fits_a_single_row_of_panels():
    from optbench.report.bands import Band
    from optbench.report.figures import convergence
    from optbench.report.frames import optimizer_colours

    names = [f"opt{i:02d}" for i in range(25)]
    curve = np.logspace(2, -9, 5)
    lines = [Band(f"{n} learning_rate=0.001 momentum=0.9", curve, curve, curve) for n in names]
    fig = convergence("one landscape", np.arange(1.0, 6.0), {"sphere": lines},
                      optimizer_colours(names))  # fmt: skip
    fig.canvas.draw()
    box = fig.legends[0].get_window_extent()
    assert len(fig.legends[0].get_texts()) == 25
    assert box.y0 >= 0 and box.y1 <= fig.bbox.height and box.x1 <= fig.bbox.width
