"""The report of every task kind, of collapsed training, of variant effects and of patterns.

Run folders are written here file by file (config.json, metrics.json, predictions.tsv,
history.csv, variants.json, patterns.tsv...) with small arrays, as any command would leave them;
the report must draw its figures and tables from those files alone.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from seqcnn.data.targets import Task
from seqcnn.errors import RunError
from seqcnn.metrics import task_metrics
from seqcnn.report import figures
from seqcnn.report.html import write_report
from seqcnn.runs.predictions import prediction_header, prediction_rows
from test_report import browse, png


def history_rows(epochs: int = 6) -> list[dict]:
    return [{"epoch": e, "loss": round(1 / e, 4), "accuracy": round(0.5 + 0.05 * e, 4), "lr": 0.01,
             "val_loss": round(1.2 / e, 4), "val_accuracy": round(0.5 + 0.04 * e, 4), "seconds": 0.1}
            for e in range(1, epochs + 1)]


def make_run(root: Path, task: Task, y: np.ndarray, outputs: np.ndarray, mask: np.ndarray | None = None,
             training: dict | None = None, **data) -> Path:
    """A run folder as `seqcnn train` writes it for ``task``: config, metrics, predictions, history."""
    root.mkdir(parents=True, exist_ok=True)
    config = {"command": ["seqcnn", "train", "fixture.tsv"], "model": "tiny", "recipe": "seqcnn",
              "data": {"source": "fixture.tsv", "kind": "sequence", "files": [], "n": len(y), "input_shape": [4, 20],
                       **data},
              "train": {"epochs": 6, "seed": 0}, "task": task.to_json()}
    if training is not None:
        config["training"] = training
    (root / "config.json").write_text(json.dumps(config))
    (root / "metrics.json").write_text(json.dumps(task_metrics(task, y, outputs, mask)))
    ids = [f"s{i}" for i in range(len(y))]
    lines = ["\t".join(prediction_header(task, labelled=True))] + prediction_rows(task, ids, outputs, y)
    (root / "predictions.tsv").write_text("\n".join(lines) + "\n")
    rows = history_rows()
    (root / "history.csv").write_text("\n".join([",".join(rows[0])] + [",".join(map(str, r.values())) for r in rows]))
    return root


@pytest.fixture
def multiclass_run(tmp_path) -> Path:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 90)
    probs = rng.dirichlet(np.ones(3), 90) + np.eye(3)[y] * 0.8  # informative, not perfect
    probs /= probs.sum(1, keepdims=True)
    task = Task("multiclass", ("Class",), ("EI", "IE", "N"), "name", "cross_entropy")
    return make_run(tmp_path / "mc", task, y, probs, class_counts=[30, 30, 30])


@pytest.fixture
def multilabel_run(tmp_path) -> Path:
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, (80, 3)).astype(float)
    y[:, 2] = np.nan  # a task without a labelled test example
    y[:40, 1] = np.nan  # a sparse one
    probs = np.clip(0.3 + 0.4 * np.nan_to_num(y) + rng.normal(0, 0.25, y.shape), 0.01, 0.99)
    task = Task("multilabel", ("CTCF", "REST", "SP1"), loss="bce")
    return make_run(tmp_path / "ml", task, y, probs)


def regression_task(names: tuple[str, ...], loss: str = "mse") -> Task:
    n = len(names)
    scale = {"mean": (0.0,) * n, "std": (1.0,) * n} if loss == "mse" else {}
    return Task("regression", names, loss=loss, **scale)


def page(folder: Path) -> str:
    return write_report(folder).read_text()


def section(html: str, name: str) -> str:
    start = html.index(f'<section id="{name}">')
    return html[start:html.index("</section>", start)]


def test_multiclass_page_names_classes_and_states_the_averaging(multiclass_run, monkeypatch):
    drawn = {}
    plot_curves = figures.plots.plot_curves
    monkeypatch.setattr(figures.plots, "plot_curves",
                        lambda curves, path, title="", stamp=None: drawn.update(curves=curves, title=title)
                        or plot_curves(curves, path, title, stamp=stamp))
    html = page(multiclass_run)
    metrics = json.loads((multiclass_run / "metrics.json").read_text())
    test = section(html, "test")
    assert "macro one-vs-rest" in test and "task: multiclass on &#39;Class&#39;, 3 classes sorted by name" in test
    for i, name in enumerate(("EI", "IE", "N")):
        row = re.search(rf"<tr><td>{name}</td>(.*?)</tr>", test).group(1)
        assert f"{metrics['auroc_per_class'][name]:.4f}" in row and f"{metrics['recall'][i]:.4f}" in row
    assert list(drawn["curves"]) == ["EI", "IE", "N"] and drawn["title"] == "per class, one-vs-rest"
    assert drawn["curves"]["IE"]["auroc"] == pytest.approx(metrics["auroc_per_class"]["IE"])
    assert f'id="test-auroc">{metrics["auroc"]:.4f}<' in html
    assert test.count('src="data:image/png;base64,') == 3  # confusion, calibration, per-class ROC/PR
    assert "<td>EI</td><td class=\"n\">30</td>" in section(html, "data")  # examples per class by name


def test_confusion_matrix_is_drawn_with_class_names(multiclass_run, monkeypatch):
    seen = {}
    monkeypatch.setattr(figures.plots, "plot_confusion", lambda cm, path, names, stamp=None: seen.update(names=names))
    page(multiclass_run)
    assert seen["names"] == ["EI", "IE", "N"]


def test_multilabel_page_has_task_bars_and_notes(multilabel_run, monkeypatch):
    bars = {}
    plot_task_bars = figures.plots.plot_task_bars
    monkeypatch.setattr(figures.plots, "plot_task_bars",
                        lambda tasks, path, key="auroc", stamp=None: bars.update(tasks=tasks)
                        or plot_task_bars(tasks, path, key, stamp=stamp))
    html = page(multilabel_run)
    metrics = json.loads((multilabel_run / "metrics.json").read_text())
    assert list(bars["tasks"]) == ["CTCF", "REST", "SP1"]
    test = section(html, "test")
    assert "tasks scored</span><b>2 of 3</b>" in html
    assert "mean over the 2 of 3 tasks" in test and "no labelled test example" in test
    rest = re.search(r"<tr><td>REST</td>(.*?)</tr>", test).group(1)
    assert f"{metrics['tasks']['REST']['auroc']:.4f}" in rest and ">40<" in rest  # 40 labelled cells
    assert 'alt="test AUROC per task"' in test and 'alt="ROC and precision-recall curves"' in test
    assert 'alt="confusion matrix"' not in test and 'alt="calibration plot"' not in test


def test_regression_page_shows_r_per_target_and_scatter(tmp_path, monkeypatch):
    rng = np.random.default_rng(3)
    y = rng.normal(size=(60, 2))
    pred = y * [0.8, 0.1] + rng.normal(0, 0.3, y.shape)
    run = make_run(tmp_path / "reg", regression_task(("expression", "accessibility")), y, pred)
    scatter = {}
    plot_scatter = figures.plots.plot_scatter
    monkeypatch.setattr(figures.plots, "plot_scatter", lambda *a, **k: scatter.update(r=a[3], names=a[2])
                        or plot_scatter(*a, **k))
    html = page(run)
    test = section(html, "test")
    for j, name in enumerate(("expression", "accessibility")):
        r = np.corrcoef(y[:, j], pred[:, j])[0, 1]  # computed here, independently of seqcnn.metrics
        assert f"{r:.4f}" in re.search(rf"<tr><td>{name}</td>(.*?)</tr>", test).group(1)
        assert scatter["r"][j] == pytest.approx(r)
    assert f'id="test-pearson">{np.mean([np.corrcoef(y[:, j], pred[:, j])[0, 1] for j in (0, 1)]):.4f}<' in html
    assert "mean test Pearson r" in html and 'alt="predicted against observed values"' in test
    assert "test-accuracy" not in html and 'alt="calibration plot"' not in test


def test_poisson_scatter_is_drawn_on_a_log_scale(tmp_path, monkeypatch):
    rng = np.random.default_rng(4)
    counts = rng.poisson(5, size=(50, 1)).astype(float)
    run = make_run(tmp_path / "pois", regression_task(("reads",), "poisson"), counts, counts + 0.5)
    seen = {}
    monkeypatch.setattr(figures.plots, "plot_scatter", lambda *a, **k: seen.update(k))
    html = page(run)
    assert seen["log"] is True and "Poisson loss on counts" in html and "test Pearson r" in html


def test_figures_are_redrawn_only_when_their_files_change(multiclass_run, monkeypatch):
    page(multiclass_run)
    stamp = figures._stamp_of(multiclass_run / "plots" / "roc_pr.png")
    assert stamp.startswith(figures.STAMP)

    def refuse(*args, **kwargs):
        raise AssertionError("redrawn although nothing changed")

    for name in ("plot_curves", "plot_calibration", "plot_confusion", "plot_history"):
        monkeypatch.setattr(figures.plots, name, refuse)
    page(multiclass_run)  # every stamp is current: nothing is drawn
    lines = (multiclass_run / "predictions.tsv").read_text().splitlines()
    (multiclass_run / "predictions.tsv").write_text("\n".join(lines[:-1]) + "\n")  # one example fewer
    with pytest.raises(AssertionError, match="redrawn"):
        page(multiclass_run)


def test_a_figure_drawn_elsewhere_is_replaced(multiclass_run):
    png(multiclass_run / "plots" / "roc_pr.png", (30, 30))  # e.g. an older seqcnn's two-class curve
    page(multiclass_run)
    path = multiclass_run / "plots" / "roc_pr.png"
    assert figures._stamp_of(path).startswith(figures.STAMP) and path.stat().st_size > 5000


def test_unknown_class_in_predictions_is_one_line(multiclass_run, cli):
    path = multiclass_run / "predictions.tsv"
    lines = path.read_text().splitlines()
    lines[3] = lines[3].replace("\tEI\t", "\tXX\t", 1).replace("\tIE\t", "\tXX\t", 1).replace("\tN\t", "\tXX\t", 1)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(RunError, match=r"predictions.tsv, line 4: label 'XX' is not one of the classes"):
        page(multiclass_run)
    code, _, err = cli("report", multiclass_run)
    assert code == 2 and len(err.strip().splitlines()) == 1


def collapse_training() -> dict:
    event = {"epoch": 5, "loss": 0.69, "best_loss": 0.25, "val_accuracy": 0.5, "best_val_accuracy": 0.97,
             "recovered": None, "kept_epoch": 3}
    return {"best_epoch": 3, "kept_epoch": 3, "collapses": [event]}


def test_collapse_notice_and_marks_on_the_history_plot(tmp_path, monkeypatch):
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, 40)
    probs = np.column_stack([1 - y * 0.7 - 0.1, y * 0.7 + 0.1])
    task = Task("binary", ("label",), ("0", "1"), "numeric", "cross_entropy")
    run = make_run(tmp_path / "collapsed", task, y, probs, training=collapse_training())
    marks = {}
    plot_history = figures.plots.plot_history
    monkeypatch.setattr(figures.plots, "plot_history", lambda rows, path, collapses, kept, stamp=None: marks.update(
        collapses=collapses, kept=kept) or plot_history(rows, path, collapses, kept, stamp=stamp))
    html = page(run)
    notice = html[html.index('id="collapse"'):html.index("</div>", html.index('id="collapse"'))]
    assert "Training collapsed at epoch 5" in notice and "0.970 \u2192 0.500" in notice
    assert "it did not recover" in notice and "The weights of epoch 3 were kept" in notice
    assert "the weights of epoch 3 were kept (green line); collapses are shaded red" in section(html, "training")
    assert [e["epoch"] for e in marks["collapses"]] == [5] and marks["kept"] == 3


def test_no_collapse_no_notice(multiclass_run):
    config = json.loads((multiclass_run / "config.json").read_text())
    config["training"] = {"best_epoch": 4, "kept_epoch": 4, "collapses": []}
    (multiclass_run / "config.json").write_text(json.dumps(config))
    html = page(multiclass_run)
    assert 'id="collapse"' not in html and "the weights of epoch 4 were kept (green line)." in html


def write_variants(run: Path) -> None:
    top = []
    for rank, (pos, delta) in enumerate([(1500, -2.5), (900, 1.25)], start=1):
        plot = f"plots/variants/{rank:02d}_chr1_{pos}_A_G.png"
        png(run / plot, (60, 30), (20, 20 * rank, 200))
        top.append({"rank": rank, "chrom": "chr1", "pos": pos, "id": f"rs{rank}", "ref": "A", "alt": "G",
                    "ref_score": 1.0, "alt_score": 1.0 + delta, "delta": delta, "plot": plot})
    (run / "variants.json").write_text(json.dumps({
        "source": "/data/calls.vcf.gz", "genome": "/data/hg38.fa", "scores": str(run / "variants.tsv"),
        "score": "log-odds of class 1, strands averaged", "tasks": [""], "n_scored": 1234,
        "skipped": {"symbolic ALT": 2, "REF does not match the genome": 7},
        "first_skipped": {"symbolic ALT": "line 40 (1:300 <DEL>)", "REF does not match the genome": "line 12 (1:77)"},
        "contig_map": {"1": "chr1", "MT": "chrM"}, "attribution": "gradient x input", "top": top}))


def test_variants_section(multiclass_run):
    write_variants(multiclass_run)
    html = page(multiclass_run)
    variants = section(html, "variants")
    assert '<td class="n" id="variants-scored">1,234</td>' in variants and "/data/hg38.fa" in variants
    skipped = re.findall(r"<tr><td>([^<]+)</td><td class=\"n\">(\d+)</td><td><code>([^<]+)</code>", variants)
    assert skipped == [("REF does not match the genome", "7", "line 12 (1:77)"),
                       ("symbolic ALT", "2", "line 40 (1:300 &lt;DEL&gt;)")]  # most frequent first
    assert "<code>1</code> &rarr; <code>chr1</code>, <code>MT</code> &rarr; <code>chrM</code>" in variants
    rows = re.findall(r"<code>(chr1:\d+)</code></td><td>(rs\d)</td><td><code>A&gt;G</code>.*?>([-+0-9.]+)</td></tr>",
                      variants)
    assert rows == [("chr1:1500", "rs1", "-2.5000"), ("chr1:900", "rs2", "+1.2500")]
    assert variants.count('src="data:image/png;base64,') == 2
    assert "variants.tsv</code> (not found there now)" in variants  # where the full scores are said to be


def write_patterns(run: Path) -> None:
    (run / "patterns.tsv").write_text(
        "pattern\tn_seqlets\tinformation_content\tjaspar_id\tjaspar_name\tp_value\tq_value\torientation\n"
        "pos_00\t120\t9.812\tMA0139.2\tCTCF\t1e-09\t2e-07\t+\n"
        "pos_00\t120\t9.812\tMA1929.2\tCTCF\t1e-06\t3e-05\t-\n"
        "pos_01\t30\t6.000\tMA0001.1\tFOO\t0.01\t0.6\t+\n"
        "neg_00\t40\t4.100\t\t\t\t\t\n")
    (run / "patterns.meme").write_text("MEME version 4\n")
    png(run / "plots" / "patterns" / "pos_00.png", (80, 40))
    png(run / "plots" / "patterns" / "neg_00.png", (80, 40), (10, 10, 10))
    (run / "explain.json").write_text(json.dumps({"method": "saliency", "patterns": {
        "sequences": 500, "method": "hypothetical DeepLIFT/SHAP -> TF-MoDISco", "patterns": [{"pattern": "pos_00"}]}}))


def test_patterns_section_groups_matches_under_their_pattern(multiclass_run):
    write_patterns(multiclass_run)
    (multiclass_run / "motifs.tsv").write_text("filter\tinformation_content\tn_sites\n" "filter_01\t5.0\t10\n")
    html = page(multiclass_run)
    patterns = section(html, "patterns")
    rows = re.findall(r"<tr><td>((?:pos|neg)_\d+)<br>.*?</tr>", patterns)
    assert rows == ["pos_00", "pos_01", "neg_00"]
    weak = re.search(r"<tr><td>pos_01<br>(.*?)</tr>", patterns).group(1)
    assert "no match with q &lt; 0.05 (closest: FOO <code>MA0001.1</code>, q 0.6)" in weak
    first = re.search(r"<tr><td>pos_00<br>(.*?)</tr>", patterns).group(1)
    assert first.count("CTCF") == 2 and "MA1929.2" in first and "raises the score" in first
    assert "lowers the score" in patterns and patterns.count('class="pattern"') == 2  # pos_01 has no logo file
    assert "sequences: 500" in patterns and "patterns.meme" in patterns
    assert html.index('id="motifs"') < html.index('id="patterns"') < html.index('id="environment"')  # beside motifs


def test_new_sections_in_a_real_browser(multiclass_run, tmp_path):
    config = json.loads((multiclass_run / "config.json").read_text())
    config["training"] = collapse_training()
    (multiclass_run / "config.json").write_text(json.dumps(config))
    write_variants(multiclass_run)
    write_patterns(multiclass_run)
    dom = browse(write_report(multiclass_run), tmp_path, "--dump-dom")
    for name in ("test", "training", "patterns", "variants"):
        assert f'<section id="{name}">' in dom
    assert 'id="collapse"' in dom and "macro one-vs-rest" in dom
    shot = tmp_path / "print.pdf"
    browse(multiclass_run / "report.html", tmp_path, f"--print-to-pdf={shot}", "--no-pdf-header-footer")
    assert shot.read_bytes()[:5] == b"%PDF-" and shot.stat().st_size > 20_000


def test_image_run_figures_appear(multiclass_run):
    png(multiclass_run / "plots" / "misclassified.png")
    for index in ("12", "3", "40"):
        for name in ("maps-2", "saliency", "kernels"):
            png(multiclass_run / "plots" / "feature-maps" / index / f"{name}.png")
    images = section(page(multiclass_run), "images")
    assert 'alt="misclassified test images"' in images
    assert re.findall(r"<h3>Test image (\d+)</h3>", images) == ["3", "12"]  # numeric order, two at most
    figures_of_3 = images[images.index("Test image 3"):images.index("Test image 12")]
    assert re.findall(r"<figcaption>([\w-]+)</figcaption>", figures_of_3) == ["kernels", "saliency", "maps-2"]


def test_a_run_without_a_recorded_task_reads_as_before(trained_run, tmp_path):
    run_copy = Path(shutil.copytree(trained_run, tmp_path / "run"))
    config = json.loads((run_copy / "config.json").read_text())
    config.pop("task", None)  # as written before tasks were recorded
    (run_copy / "config.json").write_text(json.dumps(config))
    html = page(run_copy)
    metrics = json.loads((run_copy / "metrics.json").read_text())
    assert "task: binary, 2 classes: 0, 1 (config.json records no task; from the metrics)" in html
    assert f'id="test-auprc">{metrics["auprc"]:.4f}<' in html and "AUROC averaging" not in html
    assert section(html, "test").count('src="data:image/png;base64,') == 3  # confusion, calibration, ROC/PR
