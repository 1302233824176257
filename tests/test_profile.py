"""Base-resolution profile models: the bigWig reader's edges, the profile task from --signal, BPNet's parameter
count and loss, prediction back through `seqcnn predict`, and bad inputs (one line, exit 2)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

pytest.importorskip("pyBigWig")

SHORT = ("--input-length", "300", "--output-length", "100", "--jitter", "8")


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    """A small simulated stranded set: 3 chromosomes, about 60 peaks, chr3 the test chromosome."""
    from seqcnn.data.profile_sim import simulate_profiles

    return simulate_profiles(tmp_path_factory.mktemp("sim"), chroms={"chr1": 70_000, "chr2": 70_000, "chr3": 50_000},
                             n_peaks=60, seed=3)


@pytest.fixture(scope="module")
def profile_run(sim, tmp_path_factory):
    """A profile run trained for one epoch on short windows through the command line."""
    from seqcnn.cli import main

    out = tmp_path_factory.mktemp("runs") / "run"
    code = main(["train", str(sim.peaks), "--genome", str(sim.genome), "--signal", f"{sim.plus},{sim.minus}",
                 "--test-chroms", "chr3", *SHORT, "--epochs", "1", "--out", str(out), "--quiet"])
    assert code == 0
    return out


def _bigwig(path, chroms, values):
    from seqcnn.io.bigwig import write_bigwig

    return write_bigwig(path, chroms, values)


def _genome(path, chroms):
    rng = np.random.default_rng(0)
    text = "".join(f">{name}\n" + "".join(rng.choice(list("ACGT"), n)) + "\n" for name, n in chroms.items())
    path.write_text(text)
    return path


# --- the reader and its edges ---------------------------------------------------------------------------------


def test_bigwig_values_read_zero_where_no_data_and_count_nan(tmp_path):
    from seqcnn.io.bigwig import BigWig

    values = np.zeros(100)
    values[10], values[11], values[50] = 3.0, np.nan, 2.0
    bw = BigWig(_bigwig(tmp_path / "a.bw", {"chr1": 100}, {"chr1": values}))
    got = bw.values("chr1", 5, 55)
    assert got.shape == (50,) and got[5] == 3.0 and got[45] == 2.0
    assert got[6] == 0.0 and bw.nan_values == 1  # the stored NaN, not the bases without data
    assert got.sum() == 5.0
    assert bw.values("chr1", 95, 105).tolist() == [0.0] * 10  # past the end reads 0


def test_negative_values_are_refused_with_file_and_position(tmp_path):
    from seqcnn.errors import InputError
    from seqcnn.io.bigwig import BigWig

    values = np.zeros(100)
    values[42] = -1.5
    bw = BigWig(_bigwig(tmp_path / "neg.bw", {"chr1": 100}, {"chr1": values}))
    with pytest.raises(InputError, match=r"neg\.bw: negative value -1\.5 at chr1:43"):
        bw.values("chr1", 0, 100)


def test_chromosome_names_are_matched_across_files():
    from seqcnn.io.bigwig import match_chrom

    assert match_chrom("chr1", ["1", "2"]) == "1"
    assert match_chrom("1", ["chr1"]) == "chr1"
    assert match_chrom("chrM", ["MT"]) == "MT" and match_chrom("MT", ["chrM"]) == "chrM"
    assert match_chrom("chrX", ["1", "2"]) is None


def test_load_profiles_counts_every_edge(tmp_path):
    """chr1 in the genome and peaks, 1 in the bigWigs; a peak on an absent chromosome; a window off the end; a NaN
    inside a window: each counted and said, none an error."""
    from seqcnn.data.profiles import load_profiles

    genome = _genome(tmp_path / "g.fa", {"chr1": 3000, "chr2": 3000})
    signal = np.ones(3000)
    signal[1500] = np.nan
    plus = _bigwig(tmp_path / "p.bw", {"1": 3000, "2": 3000}, {"1": signal, "2": np.ones(3000)})
    peaks = tmp_path / "peaks.bed"
    peaks.write_text("chr1\t1400\t1600\tp1\nchr1\t20\t40\toff_end\nchrUn\t100\t200\tabsent\nchr2\t1400\t1600\tp2\n"
                     "chr1\t2000\t2200\tp3\n")
    data = load_profiles(peaks, genome, str(plus), test_chroms=["chr2"], input_length=400, output_length=200,
                         jitter=10, background_ratio=0, val_fraction=0.5)
    said = "\n".join(data.notes)
    assert "unstranded" in data.notes[0] and "task: profile" in data.notes[0]
    assert "1 on chromosomes absent from the genome" in said
    assert "1 with windows off a chromosome end" in said
    assert "chromosome names differ between files" in said and "chr1" in said
    assert "1 NaN values read as 0" in said
    assert "interval centre" in said  # no column 10: the centre
    assert sorted(data.train.ids + data.val.ids) == ["p1", "p3"] and data.test.ids == ["p2"]
    assert data.test.signal.shape == (1, 1, 220) and data.test.codes.shape == (1, 420)
    assert data.test.signal.sum() == 220  # ones from the bigWig named 2 for the genome's chr2


def test_windows_are_centred_on_the_narrowpeak_summit(sim):
    from seqcnn.data.profiles import crop, load_profiles
    from seqcnn.io.bed import Genome

    data = load_profiles(sim.peaks, sim.genome, [sim.plus, sim.minus], test_chroms=["chr3"], input_length=300,
                         output_length=100, jitter=8, background_ratio=0)
    assert "summit (column 10)" in data.notes[1] and "stranded" in data.notes[0]
    line = sim.peaks.read_text().splitlines()[0].split("\t")
    summit = int(line[1]) + int(line[9])
    part = data.train if line[3] in data.train.ids else data.val
    i = part.ids.index(line[3])
    chrom, start, end = part.places[i]
    assert (start + end) // 2 == summit and end - start == 316
    codes = crop(part.take(np.array([i])), 8, 300, 100)[0][0]
    assert (codes == Genome(sim.genome).codes(chrom, summit - 150, summit + 150)).all()


def test_reverse_complement_swaps_strands():
    from seqcnn.data.profiles import augment

    codes = np.array([[0, 1, 2, 3, 4]], dtype=np.uint8)  # ACGTN
    signal = np.array([[[1, 2, 3], [10, 20, 30]]], dtype=np.float32)  # plus, minus
    c, s, _ = augment(codes, signal, None, np.array([True]), stranded=True)
    assert c.tolist() == [[4, 0, 1, 2, 3]]  # N, then the complement of TGCA reversed
    assert s.tolist() == [[[30, 20, 10], [3, 2, 1]]]  # minus reversed becomes plus
    _, s1, _ = augment(codes, signal[:, :1], None, np.array([True]), stranded=False)
    assert s1.tolist() == [[[3, 2, 1]]]


def test_background_windows_follow_the_ratio(sim):
    from seqcnn.data.profiles import load_profiles

    data = load_profiles(sim.peaks, sim.genome, [sim.plus, sim.minus], test_chroms=["chr3"], input_length=300,
                         output_length=100, jitter=8, background_ratio=0.5)
    peaks = int(data.train.is_peak.sum())
    assert (~data.train.is_peak).sum() == round(0.5 * peaks)
    assert all(i.startswith("background:") for i, p in zip(data.train.ids, data.train.is_peak) if not p)
    assert "GC content" in "\n".join(data.notes)


# --- the model and its loss -----------------------------------------------------------------------------------


def bpnet_lite_parameters(filters: int, layers: int, outputs: int, control: int) -> int:
    """bpnet-lite 1.1's BPNet: iconv (4 -> F, 21), L rconvs (F -> F, 3), fconv (F + control -> outputs, 75),
    linear (F + [control > 0] -> 1), every one with a bias."""
    return ((4 * 21 * filters + filters) + layers * (3 * filters * filters + filters)
            + ((filters + control) * outputs * 75 + outputs) + (filters + (1 if control else 0) + 1))


@pytest.mark.parametrize("tracks,control,filters,layers", [(2, 0, 64, 9), (1, 0, 64, 9), (2, 2, 64, 9),
                                                           (1, 1, 32, 8)])
def test_bpnet_parameters_equal_bpnet_lite(tracks, control, filters, layers):
    from seqcnn.models import zoo
    from seqcnn.models.network import build_model

    spec = zoo.bpnet(tracks, (4, 2114), control_tracks=control, filters=filters, layers=layers)
    counted = sum(info.params for info in spec.analyse((4, 2114)))
    assert counted == bpnet_lite_parameters(filters, layers, tracks, control)
    assert sum(p.numel() for p in build_model(spec, (4, 2114)).parameters()) == counted
    if (tracks, control, filters, layers) == (2, 0, 64, 9):
        assert counted == 126_275


def test_bpnet_shapes_and_receptive_field():
    import torch

    from seqcnn.models import zoo
    from seqcnn.models.network import build_model

    spec = zoo.get("bpnet")
    infos = spec.analyse((4, 2114))
    assert infos[-1].out_shape == (2, 1000)
    assert infos[-1].fields[0].size == 21 + 2 * sum(2**i for i in range(1, 10)) + 74 == 2139
    net = build_model(zoo.bpnet(2, (4, 300), output_length=100, control_tracks=2), (4, 300))
    profile, counts = net(torch.rand(3, 4, 300), torch.rand(3, 2, 300))
    assert profile.shape == (3, 2, 100) and counts.shape == (3, 1)


def test_profile_head_refuses_an_output_that_leaves_no_room():
    from seqcnn.errors import SpecError
    from seqcnn.models import zoo

    with pytest.raises(SpecError, match="output_length=290 leaves 5 positions"):
        zoo.bpnet(2, (4, 300), output_length=290).analyse((4, 300))


def test_loss_equals_a_hand_computation():
    import torch

    from seqcnn.training.losses import profile_loss

    logits = torch.tensor([[[0.0, 1.0], [2.0, 0.5]]])  # (1, tracks 2, L 2)
    reads = torch.tensor([[[1.0, 0.0], [3.0, 2.0]]])
    log_counts = torch.tensor([[1.5]])
    loss, nll, mse = profile_loss(logits, log_counts, reads, counts_weight=2.0)
    z = math.log(math.exp(0) + math.exp(1) + math.exp(2) + math.exp(0.5))
    want_nll = -(1 * (0 - z) + 3 * (2 - z) + 2 * (0.5 - z))
    want_mse = (1.5 - math.log(1 + 6)) ** 2
    assert float(nll) == pytest.approx(want_nll, rel=1e-6)
    assert float(mse) == pytest.approx(want_mse, rel=1e-6)
    assert float(loss) == pytest.approx(want_nll + 2.0 * want_mse, rel=1e-6)


def test_profile_metrics_by_hand():
    from seqcnn.metrics import jensen_shannon, multinomial_nll, profile_metrics

    counts = np.array([[[2.0, 1.0]]])
    probs = np.array([[[0.5, 0.5]]])
    assert multinomial_nll(counts, probs)[0] == pytest.approx(-math.log(3 * 0.5**3))
    assert jensen_shannon(counts, probs * 2 / 3 * 3)[0] == pytest.approx(
        math.sqrt(0.5 * sum(p * math.log2(p / m) for p, m in ((2 / 3, 7 / 12), (1 / 3, 5 / 12)))
                  + 0.5 * sum(q * math.log2(q / m) for q, m in ((0.5, 7 / 12), (0.5, 5 / 12)))))
    assert jensen_shannon(np.array([[1.0, 0]]), np.array([[0, 1.0]]))[0] == pytest.approx(1.0)
    observed = np.array([[[4.0, 0.0]], [[0.0, 8.0]], [[2.0, 2.0]]])
    m = profile_metrics(observed, observed / observed.sum(axis=(1, 2), keepdims=True),
                        np.log1p([4.0, 8.0, 4.0]), np.array([[0.5, 0.5]]))
    assert m["profile_jsd"] == 0 and m["counts_mse"] == 0 and m["counts_pearson"] == pytest.approx(1.0)
    assert m["baseline_profile_jsd"] > 0.5 and m["n"] == 3 and m["smoothing"] == "none"


# --- the command line -----------------------------------------------------------------------------------------


def test_train_infers_the_profile_task_and_writes_a_run(profile_run):
    config = json.loads((profile_run / "config.json").read_text())
    assert config["task"] == {"kind": "profile"} and config["model"] == "bpnet"
    assert config["profile"]["stranded"] and config["profile"]["output_length"] == 100
    notes = "\n".join(config["profile"]["notes"])
    assert "task: profile (inferred from --signal: 2 bigWig tracks, stranded" in notes
    assert "counts weight (lambda)" in notes and "/ 10" in notes
    metrics = json.loads((profile_run / "metrics.json").read_text())
    for key in ("counts_pearson", "counts_spearman", "counts_mse", "profile_nll", "profile_jsd", "profile_pearson",
                "baseline_profile_nll", "baseline_profile_jsd", "baseline_profile_pearson"):
        assert key in metrics
    assert {p.name for p in (profile_run / "plots" / "profiles").iterdir()} == {"tracks.png", "counts.png",
                                                                                  "loss.png"}
    assert "average training profile" in (profile_run / "report.html").read_text()


def test_predict_writes_ids_profiles_and_counts(cli, profile_run, sim, tmp_path):
    out = tmp_path / "pred.npz"
    code, stdout, _ = cli("predict", profile_run, sim.peaks, "--genome", sim.genome, "-o", out,
                          "--bigwig-out", tmp_path / "tracks")
    assert code == 0 and "profiles and counts for" in stdout
    names = [line.split("\t")[3] for line in sim.peaks.read_text().splitlines()]
    with np.load(out) as pred:
        assert pred["ids"].tolist() == names  # every simulated window fits inside its chromosome
        assert pred["profile"].shape == (len(names), 100, 2) and pred["counts"].shape == (len(names), 2)
        assert np.allclose(pred["profile"].sum(axis=(1, 2)), 1, atol=1e-4)
        assert (pred["counts"] >= 0).all()
    import pyBigWig

    bw = pyBigWig.open(str(tmp_path / "tracks" / "plus.predicted.bw"))
    assert set(bw.chroms()) == {"chr1", "chr2", "chr3"}


@pytest.mark.parametrize("extra,message", [
    (("--signal", "a.bw,b.bw,c.bw"), "one bigWig (unstranded) or two"),
    (("--jitter", "500"), "--jitter must be between 0 and 128"),
    (("--output-length", "400", "--input-length", "300"), "--output-length 400 is longer"),
    (("--test-chroms", "chr9"), "no peaks on the test chromosomes chr9"),
    (("--model", "chipseq"), "--model chipseq is not a profile model"),
])
def test_bad_inputs_exit_2_with_one_line(cli, sim, tmp_path, extra, message):
    base = {"--signal": f"{sim.plus},{sim.minus}", "--test-chroms": "chr3", "--input-length": "300",
            "--output-length": "100"}
    for key, value in zip(extra[::2], extra[1::2]):
        base[key] = value
    args = [a for pair in base.items() for a in pair]
    code, _, err = cli("train", sim.peaks, "--genome", sim.genome, *args, "--epochs", "1", "--out",
                       tmp_path / "r", "--quiet")
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_signal_without_genome_and_negative_tracks_exit_2(cli, sim, tmp_path):
    code, _, err = cli("train", sim.peaks, "--signal", sim.plus, "--test-chroms", "chr3")
    assert code == 2 and "--signal needs --genome" in err
    values = {c: np.zeros(n) for c, n in {"chr1": 70_000, "chr2": 70_000, "chr3": 50_000}.items()}
    values["chr1"][:] = -1.0
    bad = _bigwig(tmp_path / "bad.bw", {"chr1": 70_000, "chr2": 70_000, "chr3": 50_000}, values)
    code, _, err = cli("train", sim.peaks, "--genome", sim.genome, "--signal", bad, "--test-chroms", "chr3", *SHORT,
                       "--out", tmp_path / "r", "--quiet")
    assert code == 2 and "bad.bw: negative value -1" in err and len(err.strip().splitlines()) == 1


def test_predict_refusals(cli, profile_run, sim, tmp_path):
    code, _, err = cli("predict", profile_run, sim.peaks, "-o", tmp_path / "p.npz")
    assert code == 2 and "give the peaks' genome with --genome" in err
    code, _, err = cli("predict", profile_run, sim.peaks, "--genome", sim.genome, "-o", tmp_path / "p.tsv")
    assert code == 2 and "name it *.npz" in err
    code, _, err = cli("evaluate", profile_run, sim.peaks)
    assert code == 2 and "a profile run" in err and len(err.strip().splitlines()) == 1
    code, _, err = cli("explain", profile_run, sim.peaks)
    assert code == 2 and "it explains its own test peaks" in err


def test_missing_pybigwig_is_one_line(monkeypatch, tmp_path):
    import sys

    from seqcnn.errors import InputError
    from seqcnn.io.bigwig import pybigwig

    monkeypatch.setitem(sys.modules, "pyBigWig", None)
    with pytest.raises(InputError, match=r"pip install 'seqcnn\[profile\]'"):
        pybigwig()


def test_explain_attributes_both_heads(cli, profile_run):
    code, stdout, _ = cli("explain", profile_run, "-n", "2", "--shuffles", "2")
    assert code == 0 and "counts-head and profile-head attributions of 2 test peaks" in stdout
    with np.load(profile_run / "attributions.npz") as a:
        assert a["counts"].shape == a["profile"].shape == a["x"].shape == (2, 4, 300)
        assert np.abs(a["counts"]).sum() > 0 and np.abs(a["profile"]).sum() > 0
    summary = json.loads((profile_run / "explain.json").read_text())
    assert summary["kind"] == "profile" and len(summary["sequences"]["ids"]) == 2
    reads = summary["sequences"]["reads"]
    assert reads[0] >= reads[1]  # the strongest test peaks first


def test_variants_on_a_profile_run(cli, profile_run, sim, tmp_path):
    from seqcnn.io.bed import Genome

    genome = Genome(sim.genome)
    rows = []
    for name, pos in (("mid", 20_000), ("edge", 10)):  # the second's window runs off chr3's start
        ref = "ACGT"[genome.codes("chr3", pos - 1, pos)[0]]
        rows.append(f"chr3\t{pos}\t{ref}\t{'A' if ref != 'A' else 'G'}\t{name}\n")
    table = tmp_path / "variants.tsv"
    table.write_text("".join(rows))
    out = tmp_path / "scores.tsv"
    code, stdout, _ = cli("variants", profile_run, "--variants", table, "--genome", sim.genome, "-o", out)
    assert code == 0 and "1 variants scored" in stdout and "off the chromosome" in stdout
    header, row = [line.split("\t") for line in out.read_text().splitlines()]
    assert header[-2:] == ["log2_fold_change", "jsd"] and row[0] == "mid"
    counts_ref, counts_alt, lfc, jsd = (float(v) for v in row[5:])
    assert lfc == pytest.approx(math.log2((1 + counts_alt) / (1 + counts_ref)), abs=2e-3)
    assert 0 <= jsd <= 1


def test_a_control_track_is_read_and_fed_to_the_model(cli, sim, tmp_path):
    """--control: the control reads are cut over the input window, the model takes them (bpnet-lite's extra
    parameters), and predict asks for them again."""
    chroms = {"chr1": 70_000, "chr2": 70_000, "chr3": 50_000}
    control = _bigwig(tmp_path / "ctl.bw", chroms, {c: np.full(n, 0.5) for c, n in chroms.items()})
    out = tmp_path / "run"
    code, stdout, _ = cli("train", sim.peaks, "--genome", sim.genome, "--signal", f"{sim.plus},{sim.minus}",
                          "--control", control, "--test-chroms", "chr3", *SHORT, "--epochs", "1", "--out", out,
                          "--quiet")
    assert code == 0 and "test: counts pearson" in stdout
    from seqcnn.runs.folder import load_model

    model = load_model(out)
    assert model.layers[-1].control_tracks == 1
    assert sum(p.numel() for p in model.parameters()) == sum(
        i.params for i in model.spec.analyse((4, 300)))
    code, _, err = cli("predict", out, sim.peaks, "--genome", sim.genome, "-o", tmp_path / "p.npz")
    assert code == 2 and "trained with 1 control track(s)" in err
    code, _, _ = cli("predict", out, sim.peaks, "--genome", sim.genome, "-o", tmp_path / "p.npz", "--control", control)
    assert code == 0
