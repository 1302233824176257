"""The HTML report of run and sweep folders, checked as text and in a real (headless) browser."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from seqcnn.errors import RunError
from seqcnn.report.html import data_summary, write_report
from seqcnn.runs.folder import read_predictions

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
]


def chromium() -> str:
    """The chromium executable; skips the test when none is installed."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("chromium is not installed (.ci/run installs Debian's chromium: apt-get install -y chromium)")


def browse(page: Path, tmp_path: Path, *args: str, fragment: str = "") -> str:
    """Run headless chromium on ``page`` with a fresh profile; returns its stdout."""
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    command = [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, page.resolve().as_uri() + fragment]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def png(path: Path, size: tuple[int, int] = (40, 20), colour: tuple[int, int, int] = (200, 30, 30)) -> Path:
    """A small solid PNG, standing in for a plot."""
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path)
    return path


@pytest.fixture
def run_copy(trained_run, tmp_path) -> Path:
    """A private copy of the shared trained run, free to be changed."""
    return Path(shutil.copytree(trained_run, tmp_path / "run"))


def test_train_writes_a_self_contained_report(trained_run):
    page = trained_run / "report.html"
    html = page.read_text()
    metrics = json.loads((trained_run / "metrics.json").read_text())
    assert page.stat().st_size < 2_000_000
    assert f'id="test-accuracy">{metrics["accuracy"]:.4f}<' in html
    assert "Total params: 6,226" in html and "conv1d (Conv1D)" in html
    assert not re.search(r'(src|href)="(https?:)?//', html)  # nothing fetched from the network
    style = html[html.index("<style>"):html.index("</style>")]
    assert '"Segoe UI"' in style and "&#34;" not in style  # the CSS is inlined unescaped
    assert html.count('src="data:image/png;base64,') == 4  # history, confusion, calibration, ROC/PR
    for absent in ('id="motifs"', 'id="saliency"'):
        assert absent not in html  # explain has not run


def test_report_cli_and_data_summary(cli, run_copy, tmp_path):
    (run_copy / "report.html").unlink()
    out = tmp_path / "page.html"
    code, stdout, _ = cli("report", run_copy, "-o", out)
    assert code == 0 and str(out) in stdout and not (run_copy / "report.html").exists()
    html = out.read_text()
    config = json.loads((run_copy / "config.json").read_text())
    split = config["data"]["split"]
    assert f'{split["train"]:,} / {split["validation"]:,} / {split["test"]:,}' in html
    from seqcnn.data.builtin import simulate_primer
    from seqcnn.sequence import encode, gc_content

    sim = simulate_primer()
    positives = "".join(s for s, label in zip(sim.seqs, sim.labels) if label == 1)
    assert f"{100 * gc_content(encode(positives)):.1f} %" in html  # GC of class 1, recomputed independently


def test_calibration_matches_predictions(run_copy):
    labels, probs = read_predictions(run_copy / "predictions.tsv")
    metrics = json.loads((run_copy / "metrics.json").read_text())
    assert probs.shape == (metrics["n"], 2) and np.allclose(probs.sum(1), 1)
    # the file's probabilities (6 digits) give the same classes unless one sits within 5e-7 of 0.5; one such row
    # of 500 would move the accuracy by 2e-3
    assert (probs.argmax(1) == labels).mean() == pytest.approx(metrics["accuracy"], abs=1e-3)
    assert (run_copy / "plots" / "calibration.png").stat().st_size > 1000


def test_explain_sections_appear_with_their_files(run_copy):
    png(run_copy / "plots" / "filters" / "filter_03.png")
    png(run_copy / "plots" / "saliency" / "seq_001.png", colour=(10, 90, 200))
    (run_copy / "motifs.tsv").write_text(
        "filter\tinformation_content\tn_sites\tjaspar_id\tjaspar_name\tp_value\tq_value\torientation\n"
        "filter_07\t5.1\t40\t\t\t\t\t\n"
        "filter_03\t9.2\t120\tMA0139.2\tCTCF\t1e-08\t2e-06\t+\n")
    (run_copy / "explain.json").write_text(
        json.dumps({"method": "saliency", "database": "JASPAR2024", "per_filter": [1, 2]})
    )
    html = write_report(run_copy).read_text()
    motifs = html[html.index('id="motifs"'):html.index('id="saliency"')]
    assert motifs.index("CTCF") < motifs.index("filter_07")  # matched filters first
    assert motifs.count('class="logo"') == 1 and "MA0139.2" in motifs and "JASPAR2024" in motifs
    assert "per_filter" not in motifs  # only scalar entries of explain.json
    assert 'alt="saliency seq_001"' in html


def test_bad_folders_and_files_give_one_line_errors(cli, run_copy, tmp_path):
    code, _, err = cli("report", tmp_path / "nothing")
    assert code == 2 and "folder not found" in err
    (tmp_path / "empty").mkdir()
    code, _, err = cli("report", tmp_path / "empty")
    assert code == 2 and "not a run folder" in err and len(err.strip().splitlines()) == 1
    lines = (run_copy / "predictions.tsv").read_text().splitlines()
    (run_copy / "predictions.tsv").write_text("\n".join(lines[:3] + [lines[3] + "\textra"] + lines[4:]) + "\n")
    with pytest.raises(RunError, match=r"predictions.tsv, line 4: 5 cells, but the header has 4"):
        read_predictions(run_copy / "predictions.tsv")


def test_data_summary_reads_files_and_checks_their_hashes(tmp_path):
    from seqcnn.files import file_sha256

    seqs, labels = tmp_path / "s.txt", tmp_path / "l.txt"
    seqs.write_text("GGGGCCAA\nAAAATTTT\nGCGCAT\n")
    labels.write_text("1\n0\n1\n")
    config = {"data": {"kind": "sequence", "files": [str(seqs), str(labels)], "sha256": {str(seqs): file_sha256(seqs)},
                       "class_counts": [1, 2]}}
    rows = {(r["part"], r["class"]): r for r in data_summary(config)["stats"]}
    assert rows[("s.txt", "1")]["gc"] == pytest.approx(10 / 14) and rows[("s.txt", "0")]["gc"] == 0
    assert (rows[("s.txt", "all")]["min"], rows[("s.txt", "all")]["max"], rows[("s.txt", "all")]["n"]) == (6, 8, 3)
    seqs.write_text("GGGGCCAA\nAAAATTTT\nGCGCAA\n")
    summary = data_summary(config)
    assert summary["stats"] is None and "s.txt changed since the run" in summary["stats_note"]


def fake_sweep(root: Path) -> Path:
    """A small sweep folder as `seqcnn sweep` writes it: 3 experiments x 2 models."""
    rows = [("expA", "zeng2016-1layer", 0.80), ("expB", "zeng2016-1layer", 0.90), ("expC", "zeng2016-1layer", 0.70),
            ("expA", "mine", 0.95), ("expB", "mine", 0.60), ("expC", "mine", 0.85)]
    lines = ["experiment\tmodel\tauroc\tauprc\taccuracy\tepochs\tseconds\tparams"]
    lines += [f"{e}\t{m}\t{a}\t{a - 0.05:.2f}\t{a - 0.1:.2f}\t5\t1.5\t1234" for e, m, a in rows]
    (root / "results.tsv").parent.mkdir(parents=True, exist_ok=True)
    (root / "results.tsv").write_text("\n".join(lines) + "\n")
    png(root / "plots" / "auroc_boxplot.png", (80, 50), (30, 120, 30))
    (root / "summary.md").write_text("# Sweep\n2 models x 3 experiments\n")
    (root / "sweep.json").write_text(
        json.dumps(
            {
                "models": [
                    {"model": "zeng2016-1layer", "source": "1layer.json"},
                    {"model": "mine", "source": "mine.json"},
                ]
            }
        )
    )
    cell = root / "cells" / "expA__mine"
    cell.mkdir(parents=True)
    (cell / "report.html").write_text("<html></html>")
    return root


def test_sweep_report_medians_beside_references(tmp_path):
    html = write_report(fake_sweep(tmp_path / "sweep")).read_text()
    medians = html[html.index('id="medians"'):html.index('id="boxplot"')]
    row = re.search(r"<td>zeng2016-1layer</td>(.*?)</tr>", medians).group(1)
    assert [c for c in re.findall(r">([-+0-9.]+)<", row)] == ["3", "0.800", "0.750", "0.700", "0.846", "-0.046"]
    assert medians.index("<td>mine</td>") < medians.index("<td>zeng2016-1layer</td>")  # best median first
    assert '<a href="cells/expA__mine/report.html">expA</a>' in html
    assert html.count("<tr>") - medians.count("<tr>") == 7  # header + six cells


def test_run_report_in_a_real_browser(trained_run, tmp_path):
    from PIL import Image

    shot = tmp_path / "shot.png"
    browse(trained_run / "report.html", tmp_path, f"--screenshot={shot}", "--window-size=1280,1600")
    pixels = np.asarray(Image.open(shot).convert("RGB"))
    assert pixels.shape[:2] == (1600, 1280)
    assert (pixels.reshape(-1, 3) < 160).any(
        1
    ).mean() > 0.01  # ink: text, table rules, plot lines (a blank page has none)
    assert len(np.unique(pixels.reshape(-1, 3)[::7], axis=0)) > 200  # plots bring many colours
    dom = browse(trained_run / "report.html", tmp_path, "--dump-dom")
    metrics = json.loads((trained_run / "metrics.json").read_text())
    for section in ("command", "data", "model", "training", "test", "environment"):
        assert f'<section id="{section}">' in dom
    assert f'id="test-accuracy">{metrics["accuracy"]:.4f}<' in dom and "Total params: 6,226" in dom


def test_sweep_table_sorts_in_a_real_browser(tmp_path):
    page = write_report(fake_sweep(tmp_path / "sweep"))
    dom = browse(page, tmp_path, "--dump-dom", fragment="#sort=-auroc")  # the script sorts on load
    table = dom[dom.index('id="results"'):]
    values = [
        float(v)
        for v in re.findall(
            r'<td>(?:<a [^>]*>)?exp\w(?:</a>)?</td><td>[\w-]+</td><td class="n" data-v="([0-9.]+)"', table
        )
    ]
    assert values == sorted(values, reverse=True) and len(values) == 6


def test_multiclass_predictions_and_calibration(tmp_path):
    from PIL import Image

    from seqcnn.data.targets import numbered_task
    from seqcnn.report.plots import plot_calibration
    from seqcnn.runs.predictions import write_predictions

    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(3), size=60)
    labels = rng.integers(0, 3, size=60)
    write_predictions(tmp_path / "predictions.tsv", numbered_task(3), [f"s{i}" for i in range(60)], probs, labels)
    got_labels, got_probs = read_predictions(tmp_path / "predictions.tsv")
    assert np.array_equal(got_labels, labels) and np.allclose(got_probs, probs, atol=1e-5)  # 6 digits written
    image = Image.open(plot_calibration(got_labels, got_probs, tmp_path / "calibration.png"))
    assert image.width > 200 and image.height > 200


def test_receptive_field_is_global_after_a_recurrent_layer():
    from seqcnn.models.lookup import resolve_spec
    from seqcnn.report.html import _last_field

    recurrent = resolve_spec("cnn-bilstm", input_shape=(4, 101), classes=2)
    convolution = resolve_spec("chipseq", input_shape=(4, 101), classes=2)
    assert _last_field(recurrent.analyse((4, 101))) == "global"
    assert _last_field(convolution.analyse((4, 101))) == "101"


def test_training_section_says_when_validation_scored_the_weight_average(run_copy):
    from seqcnn.report.html import write_report

    config = json.loads((run_copy / "config.json").read_text())
    for average in (0.0, 0.995):
        config["train"]["average"] = average
        (run_copy / "config.json").write_text(json.dumps(config))
        html = write_report(run_copy).read_text()
        said = "The validation columns score the moving average of the weights (decay 0.995 per step)" in html
        assert said == bool(average)
