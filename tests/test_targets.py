"""Targets: choosing columns, inferring the task, encoding, loss and outputs."""

import json

import numpy as np
import pytest
import torch

from seqcnn.data.targets import (
    Task,
    choose_targets,
    encode_targets,
    fit_scale,
    infer_task,
    predictions,
    prepare_targets,
)
from seqcnn.errors import InputError
from seqcnn.io import Records, read_sequences
from seqcnn.training.losses import task_loss

RNG = np.random.default_rng(3)


def dna(n, length=12):
    return ["".join("ACGT"[i] for i in row) for row in RNG.integers(0, 4, size=(n, length))]


def table(path, header, rows):
    path.write_text(",".join(header) + "\n" + "".join(",".join(map(str, r)) + "\n" for r in rows))
    return path


def read(path, labels=None):
    return read_sequences(path, labels, legacy_labels=False)


def splice_csv(tmp_path, donor_unique=True):
    """A table shaped like the UCI splice-junction CSV: Class, Donor, Sequence."""
    classes = ["EI", "IE", "N"] * 4
    donors = [f"HUMA-DONOR-{i}" for i in range(12)] if donor_unique else ["d1", "d2"] * 6
    return table(tmp_path / "splice.csv", ["Class", "Donor", "Sequence"], zip(classes, donors, dna(12)))


def records(columns, n=None):
    n = n or len(next(iter(columns.values())))
    return Records(ids=[f"r{i}" for i in range(n)], seqs=dna(n), source="t.csv", lines=list(range(2, n + 2)),
                   columns=columns)


# --- choosing ---------------------------------------------------------------------------------

def test_splice_csv_with_unique_donor_names_uses_class_and_says_why(tmp_path):
    rec = read(splice_csv(tmp_path))
    assert rec.columns["Class"][:3] == ["EI", "IE", "N"] and "Sequence" not in rec.columns
    choice = choose_targets(rec)
    assert choice.names == ("Class",) and not choice.positives_only
    assert "'Donor' (a different text on every row)" in choice.message
    task = infer_task(rec, choice.names)
    assert task.kind == "multiclass" and task.classes == ("EI", "IE", "N") and task.class_order == "name"
    assert "sorted by name: EI, IE, N" in task.describe()
    assert encode_targets(rec, task).y.tolist() == [0, 1, 2] * 4


def test_splice_csv_with_repeated_donor_values_refuses_and_lists_both(tmp_path):
    rec = read(splice_csv(tmp_path, donor_unique=False))
    with pytest.raises(InputError, match=r"splice\.csv: 2 columns could be labels: 'Class', 'Donor'; pass --target"):
        choose_targets(rec)
    assert choose_targets(rec, "class").names == ("Class",)  # case-insensitive when unambiguous


@pytest.mark.parametrize("header", [["label_a", "label_b"], ["label", "label_b"]])
def test_two_label_columns_are_never_chosen_between(tmp_path, header):
    rec = read(table(tmp_path / "t.csv", ["seq", *header], [(s, i % 2, (i // 2) % 2) for i, s in enumerate(dna(8))]))
    with pytest.raises(InputError, match=f"2 columns could be labels: '{header[0]}', '{header[1]}'"):
        choose_targets(rec)
    assert choose_targets(rec, ",".join(header)).names == tuple(header)


def test_unknown_target_lists_the_columns(tmp_path):
    rec = read(splice_csv(tmp_path))
    with pytest.raises(InputError, match=r"splice\.csv: unknown target column 'Label'; the columns are: 'Class', 'Do"):
        choose_targets(rec, ["Label"])


def test_positives_only_only_for_sequences_and_ids(tmp_path):
    ids_only = read(table(tmp_path / "a.csv", ["id", "name2", "sequence"], [(f"p{i}", f"peak_{i}", s)
                                                                           for i, s in enumerate(dna(5))]))
    choice = choose_targets(ids_only)
    assert choice.positives_only and choice.names == () and "every sequence is a positive" in choice.message
    deepbind = tmp_path / "x_AC.seq"
    rows = "".join(f"A\tseq_{i}\t{s}\t1\n" for i, s in enumerate(dna(4)))
    deepbind.write_text("FoldID\tEventID\tseq\tBound\n" + rows)
    choice = choose_targets(read(deepbind))
    assert choice.positives_only and "'Bound'" in choice.message and "is 1 in every record" in choice.message
    lines = tmp_path / "l.txt"
    lines.write_text("\n".join(dna(3)) + "\n")
    assert choose_targets(read(lines)).positives_only


def test_a_second_column_is_never_ignored_silently(tmp_path):
    rec = read(table(tmp_path / "t.csv", ["sequence", "score"], zip(dna(6), [1.5, 2, 3, 1.5, 2, 7])))
    choice = choose_targets(rec)
    assert choice.names == ("score",) and not choice.positives_only


def test_label_named_columns_are_never_skipped():
    tiny = records({"Class": ["EI", "IE", "N"]})  # one text per row, but named as a label
    assert choose_targets(tiny).names == ("Class",)
    with pytest.raises(InputError, match="target 'label' has no value in any of the 3 records"):
        prepare_targets(records({"label": ["", "", "NA"]}))


def test_all_missing_target_is_refused(tmp_path):
    rec = records({"a": ["1", "0", "1"], "b": ["", "NA", "nan"]})
    with pytest.raises(InputError, match=r"t\.csv: target 'b' has no value in any of the 3 records"):
        choose_targets(rec, "a,b")


def test_label_file_columns_are_all_targets(tmp_path):
    seqs = tmp_path / "s.txt"
    seqs.write_text("\n".join(dna(4)) + "\n")
    labels = tmp_path / "y.tsv"
    labels.write_text("CTCF\tGATA1\n1\t0\n0\t\n1\t1\n0\t0\n")
    rec = read(seqs, labels)
    choice = choose_targets(rec)
    assert choice.names == ("CTCF", "GATA1")
    task = infer_task(rec, choice.names)
    assert task.kind == "multilabel" and task.loss == "bce"
    enc = encode_targets(rec, task)
    assert enc.y.dtype == np.float32 and np.isnan(enc.y[1, 1]) and enc.mask.tolist()[1] == [True, False]


def test_headerless_label_file_and_count_mismatch(tmp_path):
    seqs = tmp_path / "s.txt"
    seqs.write_text("\n".join(dna(4)) + "\n")
    (tmp_path / "y.txt").write_text("EI\nIE\nEI\nIE\n")
    rec = read(seqs, tmp_path / "y.txt")
    assert rec.columns["label"] == ["EI", "IE", "EI", "IE"]
    (tmp_path / "bad.txt").write_text("a,b\n1,0\n0\n")
    with pytest.raises(InputError, match=r"bad\.txt, line 3: 1 columns, expected 2 as on line 1"):
        read(seqs, tmp_path / "bad.txt")
    (tmp_path / "short.txt").write_text("1\n0\n")
    with pytest.raises(InputError, match=r"short\.txt: 2 labels, but .*s\.txt has 4 sequences"):
        read(seqs, tmp_path / "short.txt")


def test_fasta_header_tokens_become_columns(tmp_path):
    fasta = tmp_path / "a.fa"
    fasta.write_text(">s1 cell=K562 label=EI\nACGT\n>s2 label=IE\nACGA\n")
    rec = read(fasta)
    assert rec.columns == {"cell": ["K562", ""], "label": ["EI", "IE"]} and rec.labels is None


# --- inferring --------------------------------------------------------------------------------

@pytest.mark.parametrize("values, kind, classes, order", [
    (["0", "1", "1", "0"], "binary", ("0", "1"), "numeric"),
    (["yes", "no", "no", "yes"], "binary", ("no", "yes"), "negative first"),
    (["bound", "unbound"] * 2, "binary", ("unbound", "bound"), "negative first"),
    (["10", "2", "2", "10", "1", "1.0"], "multiclass", ("1", "2", "10"), "numeric"),
    (["b", "a", "c", "a", "b", "c"], "multiclass", ("a", "b", "c"), "name"),
])
def test_class_tasks_and_their_order(values, kind, classes, order):
    task = infer_task(records({"y": values}), ["y"])
    assert (task.kind, task.classes, task.class_order) == (kind, classes, order)


def test_regression_inferred_standardised_and_round_trips_json():
    values = [str(v) for v in [0.5, 1.25, 3.0, 2.0, 7.5, 0.1]]
    task = infer_task(records({"expr": values}), ["expr"])
    assert task.kind == "regression" and task.loss == "mse"
    assert task.mean[0] == pytest.approx(np.mean([float(v) for v in values]))
    assert Task.from_json(json.loads(json.dumps(task.to_json()))) == task
    from seqcnn.errors import RunError

    with pytest.raises(RunError, match=r"run/config\.json: unknown task loss 'hinge'"):
        Task.from_json(task.to_json() | {"loss": "hinge"}, "run/config.json")
    many = [str(i) for i in range(30)] + ["0"]
    assert infer_task(records({"count": many}), ["count"]).kind == "regression"  # > 20 whole numbers


def test_task_override_and_poisson():
    rec = records({"count": ["0", "3", "1", "0", "3", "1"]})
    assert infer_task(rec, ["count"]).kind == "multiclass"
    task = infer_task(rec, ["count"], task="poisson")
    assert (task.kind, task.loss, task.mean, task.inferred) == ("regression", "poisson", None, False)
    with pytest.raises(InputError, match="counts >= 0"):
        infer_task(records({"c": ["1", "-2", "3"]}), ["c"], task="poisson")
    with pytest.raises(InputError, match="unknown task 'ranking'; valid tasks: binary, multiclass"):
        infer_task(rec, ["count"], task="ranking")


def test_several_numeric_targets_are_multitask_regression_with_missing_cells():
    rec = records({"a": ["0.5", "", "2.5", "1"], "b": ["3", "4", "NA", "10.5"]})
    task = infer_task(rec, ["a", "b"])
    enc = encode_targets(rec, task)
    assert task.kind == "regression" and enc.y.shape == (4, 2) and enc.mask.sum() == 6
    assert task.std[0] == pytest.approx(np.std([0.5, 2.5, 1]))


@pytest.mark.parametrize("columns, task, message", [
    ({"y": ["a", "a", "b", "b", "c"]}, None, r't\.csv, line 6 \(record "r4"\): class \'c\' of target \'y\' has one'),
    ({"y": ["a", "a", "a"]}, None, "all 3 values of target 'y' are 'a'; classification needs at least 2 classes"),
    ({"y": ["1.5", "inf", "2"]}, None, r'line 3 \(record "r1"\): target \'y\' is \'inf\', not a finite number'),
    ({"y": ["1.5", "x", "2"]}, "regression", r"target 'y' is 'x', not a number"),
    ({"y": ["a", "", "b", "a", "b"]}, None, r'record "r1"\): no value for target \'y\''),
    ({"y": ["1", "0", "2"], "z": ["0", "1", "1"]}, "multilabel", r"target 'y' is '2'; a multi-label target must be 0"),
    ({"y": ["1", "", "1"], "z": ["0", "1", "1"]}, None, "target 'y' is 1 in every labelled record"),
    ({"y": ["EI", "IE", "N"], "z": ["0", "1", "1"]}, None, "target 'y' holds text"),
    ({"y": ["a", "b", "c", "a", "b", "c"]}, "binary", "--task binary needs 2 classes, target 'y' has 3"),
    ({"y": ["1", "0", "1"], "z": ["0.5", "2.5", "1"]}, None, "targets 'y' are 0/1 but 'z' hold other numbers"),
])
def test_values_that_do_not_fit_are_refused_naming_the_record(columns, task, message):
    with pytest.raises(InputError, match=message):
        infer_task(records(columns), list(columns), task=task)


def test_encoding_a_test_file_with_an_unknown_class_names_it():
    train = records({"y": ["EI", "IE", "EI", "IE"]})
    task = infer_task(train, ["y"])
    with pytest.raises(InputError, match=r"target 'y' is 'N', not one of the classes EI, IE"):
        encode_targets(records({"y": ["EI", "N"]}), task)
    with pytest.raises(InputError, match="no target column 'y'"):
        encode_targets(records({"z": ["EI", "IE"]}), task)


def test_prepare_targets_gives_everything_or_positives_only():
    choice, task, enc = prepare_targets(records({"label": ["1", "0", "1", "0"]}))
    assert task.kind == "binary" and enc.y.tolist() == [1, 0, 1, 0]
    choice, task, enc = prepare_targets(records({"id": ["a", "b", "c"]}))
    assert choice.positives_only and task is None and enc is None


# --- loss and outputs -------------------------------------------------------------------------

def test_masked_bce_ignores_missing_cells():
    task = Task("multilabel", ("a", "b"), loss="bce")
    logits = torch.tensor([[2.0, -1.0], [0.5, 3.0]], requires_grad=True)
    y = torch.tensor([[1.0, float("nan")], [0.0, 1.0]])
    loss = task_loss(task, logits, y)
    cells = torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.nan_to_num(y), reduction="none")
    assert loss.item() == pytest.approx((cells[0, 0] + cells[1, 0] + cells[1, 1]).item() / 3)
    loss.backward()
    assert logits.grad[0, 1] == 0 and torch.isfinite(logits.grad).all()
    empty = task_loss(task, logits, torch.full((2, 2), float("nan")))
    assert empty.item() == 0.0


def test_mse_on_standardised_targets_and_predictions_undo_it():
    task = fit_scale(Task("regression", ("e",), loss="mse"), np.array([[1.0], [3.0], [5.0]]))
    assert task.mean == (3.0,) and task.std[0] == pytest.approx(np.std([1, 3, 5]))
    y = torch.tensor([[5.0]])
    z = (5.0 - 3.0) / task.std[0]
    assert task_loss(task, torch.tensor([[z]]), y).item() == pytest.approx(0.0, abs=1e-10)
    assert predictions(task, np.array([[z]]))[0, 0] == pytest.approx(5.0)


def test_cross_entropy_and_poisson_losses_match_torch():
    logits = torch.tensor([[1.0, 2.0, 0.5], [0.1, 0.2, 3.0]])
    y = torch.tensor([1, 2])
    task = Task("multiclass", ("c",), ("a", "b", "c"), "name")
    assert task_loss(task, logits, y).item() == pytest.approx(torch.nn.functional.cross_entropy(logits, y).item())
    assert predictions(task, logits).sum(axis=1) == pytest.approx([1.0, 1.0])
    pois = Task("regression", ("n",), loss="poisson")
    rate, counts = torch.tensor([[0.3], [1.2]]), torch.tensor([[2.0], [0.0]])
    expected = torch.nn.functional.poisson_nll_loss(rate, counts, log_input=True).item()
    assert task_loss(pois, rate, counts).item() == pytest.approx(expected)
    assert predictions(pois, np.array([[0.0]]))[0, 0] == pytest.approx(1.0)


def test_prediction_table_per_task():
    from seqcnn.data.targets import positives_task
    from seqcnn.runs.predictions import prediction_header, prediction_rows

    binary = positives_task("Bound")
    assert prediction_header(binary, True) == ["id", "label", "probability", "predicted"]
    assert prediction_rows(binary, ["a"], np.array([[0.25, 0.75]]), np.array([0])) == ["a\t0\t0.75\t1"]
    multi = Task("multiclass", ("Class",), ("EI", "IE", "N"), "name")
    assert prediction_header(multi, False) == ["id", "p_EI", "p_IE", "p_N", "predicted"]
    assert prediction_rows(multi, ["s"], np.array([[0.1, 0.7, 0.2]])) == ["s\t0.1\t0.7\t0.2\tIE"]
    numbered = Task("multiclass", ("y",), ("0", "1", "2"), "numeric")
    assert prediction_header(numbered, False)[1:4] == ["p0", "p1", "p2"]  # today's header for numbered classes
    reg = Task("regression", ("a", "b"), loss="mse", mean=(0.0, 0.0), std=(1.0, 1.0))
    assert prediction_header(reg, True) == ["id", "a", "b", "pred_a", "pred_b"]
    assert prediction_rows(reg, ["r"], np.array([[1.5, 2.0]]), np.array([[1.0, np.nan]])) == ["r\t1\t\t1.5\t2"]
