"""Every task kind through `seqcnn train`, `predict`, `evaluate` and `explain`: the data shapes people ship
(a splice-junction CSV with named classes, a sparse multi-label table, a regression table, a flat `.npz`),
the target choice and the task printed, the run folder's files speaking the task."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

MOTIFS = {"EI": "CAGGTAAGT", "IE": "TTTCCCTCCAGG", "N": ""}
FAST = ("--epochs", "3", "--quiet", "--model", "tiny")


@pytest.fixture
def tiny_zoo(monkeypatch):
    """A tiny zoo model named ``tiny`` (conv -> global max pool -> Dense head), registered for the test."""
    from seqcnn.models import zoo

    def build(classes: int = 2, input_shape=(4, 40)):
        return zoo._spec([{"Conv1D": {"filters": 16, "kernel_size": 9, "activation": "relu"}},
                          {"GlobalMaxPooling1D": {}}, zoo._head(classes)])

    monkeypatch.setitem(zoo.ZOO, "tiny", zoo.ZooEntry(build, "sequence", (4, 40), "test model"))


def random_dna(rng: np.random.Generator, n: int, length: int = 40) -> list[str]:
    return ["".join("ACGT"[i] for i in row) for row in rng.integers(0, 4, size=(n, length))]


def plant(seq: str, motif: str, at: int = 12) -> str:
    return seq[:at] + motif + seq[at + len(motif):]


def splice_csv(path, n: int = 240, seed: int = 0) -> None:
    """`Class,Donor,Sequence` as the UCI splice-junction set ships it: EI/IE/N, a donor name per row."""
    rng = np.random.default_rng(seed)
    classes = rng.choice(list(MOTIFS), size=n)
    seqs = [plant(s, MOTIFS[c]) for s, c in zip(random_dna(rng, n), classes)]
    path.write_text("Class,Donor,Sequence\n" + "".join(f"{c},HS{i:04d},{s}\n" for i, (c, s) in enumerate(zip(classes,
                                                                                                               seqs))))


def read_tsv(path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def test_named_classes_train_in_one_command_and_keep_their_names(tmp_path, cli, tiny_zoo):
    data = tmp_path / "splice.csv"
    splice_csv(data)
    code, out, err = cli("train", data, *FAST, "--out", tmp_path / "run")
    assert code == 0, err
    assert "target 'Class' (the only column that could be a label)" in err and "'Donor'" in err
    assert "task: multiclass on 'Class', 3 classes sorted by name: EI, IE, N" in err
    assert "AUROC averaged macro one-vs-rest" in out
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["classes"] == ["EI", "IE", "N"] and metrics["auroc_average"] == "macro one-vs-rest"
    rows = read_tsv(tmp_path / "run" / "predictions.tsv")
    assert list(rows[0]) == ["id", "label", "p_EI", "p_IE", "p_N", "predicted"]
    assert {r["label"] for r in rows} == {"EI", "IE", "N"}
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["task"]["kind"] == "multiclass" and config["task"]["classes"] == ["EI", "IE", "N"]
    assert config["model"] == "tiny"  # and the zoo head was sized for 3 classes:
    assert json.loads((tmp_path / "run" / "model.json").read_text())["spec"]["layers"][-1]["Dense"]["units"] == 3


@pytest.mark.parametrize(("header", "listed"), [
    ("label_a,label_b,sequence", "'label_a', 'label_b'"),
    ("Class,Donor,sequence", "'Class', 'Donor'"),
])
def test_an_unknown_column_never_gives_a_positives_only_run(header, listed, tmp_path, cli):
    rng = np.random.default_rng(1)
    rows = [f"{['EI', 'IE'][i % 2]},{['x', 'y', 'z'][i % 3]},{s}" for i, s in enumerate(random_dna(rng, 30))]
    if header.startswith("label"):
        rows = [f"{i % 2},{(i // 2) % 2},{s}" for i, s in enumerate(random_dna(rng, 30))]
    data = tmp_path / "two.csv"
    data.write_text(header + "\n" + "\n".join(rows) + "\n")
    code, _, err = cli("train", data, "--epochs", "1", "--quiet", "--out", tmp_path / "run")
    assert code == 2 and f"2 columns could be labels: {listed}; pass --target" in err
    assert len(err.strip().splitlines()) == 1 and "positive" not in err
    assert not (tmp_path / "run").exists()


def test_unknown_target_names_the_columns(tmp_path, cli):
    data = tmp_path / "splice.csv"
    splice_csv(data, n=30)
    code, _, err = cli("train", data, "--target", "Label", "--epochs", "1", "--quiet", "--out", tmp_path / "run")
    assert code == 2 and "unknown target column 'Label'; the columns are: 'Class', 'Donor'" in err


def sparse_multilabel(path, n: int = 300, seed: int = 2) -> np.ndarray:
    """Two 0/1 tasks, each labelling only about half of the rows (the rest empty or NaN)."""
    rng = np.random.default_rng(seed)
    present = rng.random((n, 2)) < 0.5
    seqs = [plant(plant(s, "CAGGTAAGT", 4) if a else s, "TTTCCCTCCAGG", 24) if b else plant(s, "CAGGTAAGT", 4)
            if a else s for s, (a, b) in zip(random_dna(rng, n), present)]
    labelled = rng.random((n, 2)) < 0.5
    cells = [["" if not labelled[i, t] else str(int(present[i, t])) for t in range(2)] for i in range(n)]
    cells = [[c if c or i % 2 else "NaN" for c in row] for i, row in enumerate(cells)]  # both spellings of missing
    path.write_text("id,sequence,ei,ie\n" + "".join(f"s{i},{s},{a},{b}\n" for i, (s, (a, b)) in enumerate(zip(seqs,
                                                                                                             cells))))
    return labelled


def test_sparse_multilabel_table_masks_missing_cells(tmp_path, cli, tiny_zoo):
    data = tmp_path / "sparse.csv"
    labelled = sparse_multilabel(data)
    code, out, err = cli("train", data, "--target", "ei,ie", *FAST, "--out", tmp_path / "run")
    assert code == 0, err
    assert "task: multilabel on 2 target(s) 'ei', 'ie'" in err and "mean AUROC" in out
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert set(metrics["tasks"]) == {"ei", "ie"} and metrics["n_tasks"] == 2
    rows = read_tsv(tmp_path / "run" / "predictions.tsv")
    assert list(rows[0]) == ["id", "ei", "ie", "p_ei", "p_ie"]
    # metrics count labelled cells only: the test part's missing cells are left out
    assert metrics["tasks"]["ei"]["n"] == sum(r["ei"] != "" for r in rows) < len(rows)
    assert metrics["n"] == sum(r[t] != "" for r in rows for t in ("ei", "ie"))
    assert labelled.sum() < labelled.size
    assert json.loads((tmp_path / "run" / "model.json").read_text())["spec"]["layers"][-1]["Dense"]["activation"] \
        == "sigmoid"


def regression_table(path, n: int = 300, seed: int = 3, offset: float = 1000.0) -> None:
    rng = np.random.default_rng(seed)
    sites = rng.integers(0, 3, size=n)
    seqs = [s if k == 0 else plant(s, "CAGGTAAGT", 2) if k == 1 else plant(plant(s, "CAGGTAAGT", 2), "CAGGTAAGT", 25)
            for s, k in zip(random_dna(rng, n), sites)]
    values = offset + 10 * sites + rng.normal(size=n)
    path.write_text("sequence\texpression\n" + "".join(f"{s}\t{v:.3f}\n" for s, v in zip(seqs, values)))


def test_regression_is_standardised_and_predicted_on_the_original_scale(tmp_path, cli, tiny_zoo):
    data = tmp_path / "mpra.tsv"
    regression_table(data)
    code, out, err = cli("train", data, *FAST, "--out", tmp_path / "run")
    assert code == 0, err
    assert "task: regression on 1 target(s) 'expression'; mean squared error on standardised targets" in err
    assert out.startswith("test: pearson ")
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert {"pearson", "spearman", "r2", "mse", "mae"} <= set(metrics)
    task = json.loads((tmp_path / "run" / "config.json").read_text())["task"]
    assert task["loss"] == "mse" and 1000 < task["mean"][0] < 1020 and task["std"][0] > 1
    predicted = [float(r["pred_expression"]) for r in read_tsv(tmp_path / "run" / "predictions.tsv")]
    assert 990 < np.mean(predicted) < 1030  # the original scale, not the standardised one
    # predict and evaluate read the task from the run
    code, _, err = cli("predict", tmp_path / "run", data, "-o", tmp_path / "pred.tsv")
    assert code == 0, err
    assert list(read_tsv(tmp_path / "pred.tsv")[0]) == ["id", "pred_expression"]
    code, out, err = cli("evaluate", tmp_path / "run", data, "--json")
    assert code == 0, err
    assert json.loads(out)["n"] == 300 and "pearson" in json.loads(out)


def test_flat_npz_with_one_hot_labels_trains_with_input_shape(tmp_path, cli):
    rng = np.random.default_rng(4)
    y = rng.integers(0, 3, size=60)
    x = (rng.random((60, 784)) * 255).astype(np.uint8)
    x[np.arange(60), y * 100] = 255
    np.savez(tmp_path / "mnist.npz", X=x, Y=np.eye(3, dtype=np.float32)[y])
    code, out, err = cli("train", tmp_path / "mnist.npz", "--input-shape", "28,28,1", "--model", "fashion-dense",
                         "--epochs", "1", "--quiet", "--out", tmp_path / "run")
    assert code == 0, err
    assert not any(w in err for w in ("RuntimeWarning", "UserWarning", "DeprecationWarning", "numpy"))  # third-party
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["data"]["input_shape"] == [1, 28, 28] and config["task"]["kind"] == "multiclass"
    assert out.startswith("test: accuracy")
    code, _, err = cli("train", tmp_path / "mnist.npz", "--input-shape", "28x28", "--quiet", "--out", tmp_path / "r2")
    assert code == 2 and "--input-shape must be three positive integers H,W,C" in err


def test_duplicates_are_counted_and_dedupe_removes_them(tmp_path, cli, tiny_zoo):
    data = tmp_path / "splice.csv"
    splice_csv(data, n=120)
    lines = data.read_text().splitlines()
    data.write_text("\n".join(lines + [line.replace(",HS", ",DUP") for line in lines[1:61]]) + "\n")
    code, _, err = cli("train", data, *FAST, "--out", tmp_path / "leaky")
    assert code == 0, err
    assert "test sequences" in err and "also occur in the training set" in err
    code, _, err = cli("train", data, *FAST, "--dedupe", "--out", tmp_path / "clean")
    assert code == 0, err
    assert "--dedupe removed 60 repeated sequence(s) of 180; 120 remain" in err
    assert "also occur in the training set" not in err


def test_poisson_and_task_override(tmp_path, cli, tiny_zoo):
    data = tmp_path / "counts.csv"
    rng = np.random.default_rng(5)
    data.write_text("sequence,reads\n" + "".join(f"{s},{rng.poisson(3)}\n" for s in random_dna(rng, 80)))
    code, _, err = cli("train", data, "--task", "poisson", *FAST, "--out", tmp_path / "run")
    assert code == 0, err
    assert "Poisson loss on counts" in err and "given by --task" in err
    assert min(float(r["pred_reads"]) for r in read_tsv(tmp_path / "run" / "predictions.tsv")) > 0


def test_explain_chooses_a_class_by_name_or_a_task(tmp_path):
    from seqcnn.data.targets import Task
    from seqcnn.errors import InputError
    from seqcnn.interpret.explain import ExplainOptions, output_index

    classes = Task("multiclass", ("Class",), ("EI", "IE", "N"), "name")
    assert output_index(classes, ExplainOptions(target_class="IE")) == 1
    assert output_index(classes, ExplainOptions(target_class="2")) == 2
    with pytest.raises(InputError, match="its classes are: EI, IE, N"):
        output_index(classes, ExplainOptions(target_class="XX"))
    tasks = Task("multilabel", ("ei", "ie"), loss="bce")
    assert output_index(tasks, ExplainOptions(task_name="ie")) == 1
    with pytest.raises(InputError, match="choose one with --task-name: ei, ie"):
        output_index(tasks, ExplainOptions())
    with pytest.raises(InputError, match="--target-class is for classification runs"):
        output_index(tasks, ExplainOptions(target_class="EI"))


def test_a_store_refuses_targets_it_cannot_hold(tmp_path, cli):
    data = tmp_path / "splice.csv"
    splice_csv(data, n=30)
    code, _, err = cli("prepare", data, "--out", tmp_path / "store", "--quiet")
    assert code == 2 and "a store holds one 0/1 label per sequence, but this file's task: multiclass" in err
