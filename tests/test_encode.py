"""DeepBind/ENCODE inputs end to end: positives-only .seq.gz, strand averaging, transfer, bad input."""

import gzip
import json

import numpy as np
import pytest

from conftest import SHARED

ENCODE = SHARED / "encode-deepbind"
MOTIF = "CACGTGAC"


def _seq_gz(path, seqs, labels, header="FoldID\tEventID\tseq\tBound"):
    rows = [header] + [f"A\tev{i}\t{s}\t{lab}" for i, (s, lab) in enumerate(zip(seqs, labels))]
    with gzip.open(path, "wt") as handle:
        handle.write("\n".join(rows) + "\n")
    return path


def _planted(n, length, seed, motif=True):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        seq = "".join("ACGT"[j] for j in rng.integers(0, 4, length))
        at = int(rng.integers(0, length - len(MOTIF)))
        out.append(seq[:at] + MOTIF + seq[at + len(MOTIF):] if motif else seq)
    return out


def test_real_deepbind_files_read_as_positives_and_test(tmp_path):
    from seqcnn.data.load import load_data

    train, test = ENCODE / "MYC_H1-hESC_c-Myc_Stanford_AC.seq.gz", ENCODE / "MYC_H1-hESC_c-Myc_Stanford_B.seq.gz"
    if not train.is_file():
        pytest.skip(f"ENCODE data not found at {ENCODE}")
    bundle = load_data(train, test=test)
    assert np.bincount(bundle.train.labels).tolist() == [16204, 4051] and bundle.train.x.shape[1] == 101
    assert np.bincount(bundle.test.labels).tolist() == [500, 500]
    assert bundle.default_model == "chipseq" and bundle.default_recipe == "chipseq"


def test_positives_only_training_with_rc_average_and_shared_warning(cli, tmp_path, tiny_spec):
    pos = _planted(40, 30, seed=1)
    train = _seq_gz(tmp_path / "X_AC.seq.gz", pos, [1] * 40)
    test_seqs = pos[:3] + _planted(10, 30, seed=2) + _planted(13, 30, seed=3, motif=False)
    test = _seq_gz(tmp_path / "X_B.seq.gz", test_seqs, [1] * 13 + [0] * 13)
    out = tmp_path / "run"
    code, _, err = cli("train", train, "--test", test, "--model", tiny_spec, "--epochs", "1", "--quiet", "--out", out)
    assert code == 0, err
    assert "all 40 training sequences are positives; adding 160 dinucleotide-shuffled negatives (4 per positive" in err
    assert "X_B.seq.gz: warning: 3 of 26 test sequences (11.5%) also occur in the training set" in err
    config = json.loads((out / "config.json").read_text())
    assert (
        config["predict"]["rc_average"] is True
        and config["recipe"] == "chipseq"
        and config["data"]["class_counts"] == [160, 40]
    )
    # predict uses the run's strand averaging: the score of a sequence equals that of its reverse complement
    from seqcnn.sequence import reverse_complement

    fasta = tmp_path / "q.fa"
    fasta.write_text(f">f\n{test_seqs[5]}\n>r\n{reverse_complement(test_seqs[5])}\n")
    code, _, _ = cli("predict", out, fasta, "-o", tmp_path / "p.tsv")
    rows = [line.split("\t") for line in (tmp_path / "p.tsv").read_text().splitlines()[1:]]
    assert code == 0 and rows[0][1] == rows[1][1]


ATTENTION_SPEC = [
    {"Conv1D": {"filters": 8, "kernel_size": 8, "activation": "relu"}},
    {"SinePositionEncoding": {}},
    {"MultiHeadAttention": {"num_heads": 2, "key_dim": 4}},
    {"GlobalMaxPooling1D": {}},
    {"Dense": {"units": 2, "activation": "softmax"}},
]


def test_attention_model_on_positives_only_data_gets_the_hybrid_recipe(cli, tmp_path):
    train = _seq_gz(tmp_path / "X_AC.seq.gz", _planted(40, 30, seed=1), [1] * 40)
    spec = tmp_path / "attention.json"
    spec.write_text(json.dumps(ATTENTION_SPEC))
    code, _, err = cli("train", train, "--model", spec, "--epochs", "1", "--quiet", "--out", tmp_path / "run")
    assert code == 0, err
    line = ("seqcnn: model 'attention' has recurrent or attention layers (MultiHeadAttention): recipe chipseq-hybrid "
            "(AdamW, one-cycle to 3e-3, 20 epochs without early stopping) instead of chipseq; --recipe chooses another")
    assert line in err.splitlines()
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    chosen = config["train"]
    assert config["recipe"] == "chipseq-hybrid" and config["recipe_chosen"] == line.removeprefix("seqcnn: ")
    assert (chosen["optimizer"], chosen["schedule"], chosen["patience"]) == ("adamw", "onecycle", None)
    assert chosen["epochs"] == 1 and chosen["augment"] == ["rc"]  # the user's --epochs still counts
    assert config["predict"]["rc_average"] is True and config["data"]["split"]["val_size"] == 0.1  # still ChIP-seq data


def test_a_named_recipe_or_a_plain_cnn_keeps_the_chipseq_recipe(cli, tmp_path, tiny_spec):
    train = _seq_gz(tmp_path / "X_AC.seq.gz", _planted(40, 30, seed=1), [1] * 40)
    spec = tmp_path / "attention.json"
    spec.write_text(json.dumps(ATTENTION_SPEC))
    for name, model, extra in (("named", spec, ["--recipe", "chipseq"]), ("cnn", tiny_spec, [])):
        out = tmp_path / name
        code, _, err = cli("train", train, "--model", model, "--epochs", "1", "--quiet", "--out", out, *extra)
        config = json.loads((tmp_path / name / "config.json").read_text())
        assert code == 0 and "recipe chipseq-hybrid" not in err
        assert config["recipe"] == "chipseq" and "recipe_chosen" not in config


def test_recipe_choice_for_labelled_data_is_the_data_default():
    from seqcnn.data.sets import DataBundle
    from seqcnn.jobs.train import RecipeChoices
    from seqcnn.models.spec import ModelSpec

    spec = ModelSpec.from_obj(ATTENTION_SPEC, name="attention")
    bundle = DataBundle(None, default_model="chipseq", default_recipe="labelled")
    assert RecipeChoices().choose(bundle, spec) == ("labelled", None)  # one-cycle, no early stopping already
    chip = DataBundle(None, default_model="chipseq", default_recipe="chipseq")
    assert RecipeChoices().choose(chip, spec)[0] == "chipseq-hybrid"
    assert RecipeChoices("primer").choose(chip, spec) == ("primer", None)


def test_a_named_zoo_model_gets_its_own_recipe_over_the_generic_one():
    from seqcnn.data.sets import DataBundle
    from seqcnn.jobs.train import RecipeChoices
    from seqcnn.models.spec import ModelSpec

    spec = ModelSpec.from_obj([{"Conv1D": {"filters": 4, "kernel_size": 3}}], name="primer")
    table = DataBundle(None, default_model="chipseq", default_recipe="labelled")
    name, line = RecipeChoices().choose(table, spec, "primer")
    assert name == "seqcnn" and "model 'primer' has a recipe tuned for it: seqcnn" in line
    assert RecipeChoices("labelled").choose(table, spec, "primer") == ("labelled", None)  # the user's recipe wins
    assert RecipeChoices().choose(table, spec, "deepbind") == ("labelled", None)  # no recipe of its own
    assert RecipeChoices().choose(table, spec, "specs/primer.json") == ("labelled", None)  # a file, not the zoo's
    chip = DataBundle(None, default_model="chipseq", default_recipe="chipseq")
    assert RecipeChoices().choose(chip, spec, "primer") == ("chipseq", None)  # positives-only data keep theirs
    builtin = DataBundle(None, default_model="primer", default_recipe="seqcnn")
    assert RecipeChoices().choose(builtin, spec, "primer") == ("seqcnn", None)  # already the data's: nothing said


def test_primer_model_on_the_primers_files_trains_with_its_recipe(cli, primer_files, tmp_path):
    sequences, labels = primer_files
    out = tmp_path / "run"
    code, _, err = cli("train", sequences, "--labels", labels, "--model", "primer", "--epochs", "1", "--quiet",
                       "--out", out)
    assert code == 0, err
    config = json.loads((out / "config.json").read_text())
    assert config["recipe"] == "seqcnn" and config["recipe_chosen"].startswith("model 'primer' has a recipe")
    assert config["train"]["clip_norm"] == 1.0 and config["train"]["average"] > 0  # the seqcnn recipe's fields
    assert "recipe tuned for it: seqcnn" in err


def test_init_from_copies_and_freezes_layers(cli, tmp_path, tiny_spec):
    from safetensors.torch import load_file

    train = _seq_gz(tmp_path / "X_AC.seq.gz", _planted(40, 30, seed=1), [1] * 40)
    first, second = tmp_path / "first", tmp_path / "second"
    assert cli("train", train, "--model", tiny_spec, "--epochs", "1", "--quiet", "--out", first)[0] == 0
    code, _, err = cli(
        "train",
        train,
        "--model",
        tiny_spec,
        "--epochs",
        "2",
        "--quiet",
        "--out",
        second,
        "--init-from",
        first,
        "--freeze",
        "1",
        "--seed",
        "5",
    )
    assert code == 0, err
    a, b = load_file(first / "model.safetensors"), load_file(second / "model.safetensors")
    assert all(np.array_equal(a[k].numpy(), b[k].numpy()) for k in a if k.startswith("layers.0."))
    assert not np.array_equal(a["layers.2.weight"].numpy(), b["layers.2.weight"].numpy())
    assert json.loads((second / "config.json").read_text())["transfer"] == {"init_from": str(first), "freeze": 1}
    code, _, err = cli(
        "train", train, "--model", tiny_spec, "--epochs", "1", "--quiet", "--out", tmp_path / "x", "--freeze", "1"
    )
    assert code == 2 and "--freeze 1 needs --init-from RUN" in err


@pytest.mark.parametrize(
    "header, seqs, message",
    [
        ("FoldID\tEventID\tsequence_x\tBound", ["ACGTACGT"], "X_AC.seq.gz, line 1: no sequence column in header"),
        (
            "FoldID\tEventID\tseq\tBound",
            ["ACGTACGTAA", "ACGTACGTAA", "ACGTAC"],
            'X_AC.seq.gz \\(record "ev2"\\): sequence has length 6, expected 10',
        ),
    ],
)
def test_bad_seq_gz_exits_2(cli, tmp_path, header, seqs, message):
    import re

    path = _seq_gz(tmp_path / "X_AC.seq.gz", seqs, [1] * len(seqs), header=header)
    code, _, err = cli("train", path, "--epochs", "1", "--quiet", "--out", tmp_path / "run")
    assert code == 2 and len(err.strip().splitlines()) == 1 and re.search(message, err), err
