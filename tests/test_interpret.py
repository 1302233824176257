"""Attributions, filters as PWMs, JASPAR matching and the explain command."""

from __future__ import annotations

import json
import shutil
import warnings

import numpy as np
import pytest
import torch
from torch import nn

from conftest import random_dna
from seqcnn.errors import InputError, SpecError
from seqcnn.interpret import attribution, filters, motif_matching
from seqcnn.io import jaspar
from seqcnn.models.network import build_model
from seqcnn.models.spec import ModelSpec
from seqcnn.sequence import onehot, onehot_strings


def _spec_model(layers: list[dict], length: int, seed: int = 0):
    torch.manual_seed(seed)
    model = build_model(ModelSpec.from_obj(layers), (4, length)).eval()
    with torch.no_grad():  # non-zero biases, so that padding and thresholds matter
        for p in model.parameters():
            p.add_(0.1 * torch.randn_like(p))
    return model


HEAD = [{"Dense": {"units": 8, "activation": "relu"}}, {"Dense": {"units": 2, "activation": "softmax"}}]
DEEPBIND_LIKE = [{"Conv1D": {"filters": 5, "kernel_size": 6, "activation": "relu"}}, {"GlobalMaxPooling1D": {}}] + HEAD
SAME_TANH = [
    {"Conv1D": {"filters": 4, "kernel_size": 5, "padding": "same", "activation": "tanh"}},
    {"GlobalMaxPooling1D": {}},
] + HEAD
PRIMER_LIKE = [{"Conv1D": {"filters": 4, "kernel_size": 6, "padding": "same", "activation": "relu"}},
               {"MaxPooling1D": {"pool_size": 4, "padding": "same"}}, {"Flatten": {}}] + HEAD


def _brute_force_ism(model, x: np.ndarray, target: int = 1) -> np.ndarray:
    """ISM the slow, obvious way: one forward pass per edited sequence."""
    x = torch.tensor(x)
    out = np.zeros(x.shape, dtype=np.float32)
    with torch.no_grad():
        y0 = attribution.class_score(model(x), target)
        for n in range(x.shape[0]):
            for pos in range(x.shape[2]):
                for base in range(4):
                    variant = x[n : n + 1].clone()
                    variant[0, :, pos] = 0
                    variant[0, base, pos] = 1
                    if torch.equal(variant, x[n : n + 1]):
                        continue
                    out[n, base, pos] = attribution.class_score(model(variant), target)[0] - y0[n]
    return out


def test_class_score_is_log_odds_for_two_classes():
    logits = torch.tensor([[0.5, 2.0], [1.0, -1.0]])
    assert torch.allclose(attribution.class_score(logits, 1), torch.tensor([1.5, -2.0]))
    assert torch.allclose(attribution.class_score(logits, 0), torch.tensor([-1.5, 2.0]))
    three = torch.tensor([[1.0, 2.0, 6.0]])
    assert torch.allclose(attribution.class_score(three, 2), torch.tensor([3.0]))
    with pytest.raises(InputError, match="target class must be in 0..2"):
        attribution.class_score(three, 3)


@pytest.mark.parametrize("layers", [DEEPBIND_LIKE, SAME_TANH, PRIMER_LIKE], ids=["global-max", "same-tanh", "pooled"])
def test_ism_matches_one_forward_pass_per_variant(layers):
    length = 20
    model = _spec_model(layers, length)
    x = onehot_strings(random_dna(3, length, seed=1))
    fast = attribution.saturation_mutagenesis(model, x)
    # float32 logits near 1 summed in other orders (a whole pass against one pass per variant): about 1e-7 apart,
    # 7e-7 at most under ATEN_CPU_CAPABILITY=default; 1e-5 is a 14x margin
    np.testing.assert_allclose(fast, _brute_force_ism(model, x), atol=1e-5)
    assert np.all(fast[x == 1] == 0)  # identity substitutions
    assert np.abs(fast).max() > 1e-3


def test_ism_with_unknown_bases_and_a_plain_module():
    model = _spec_model(DEEPBIND_LIKE, 20)
    x = onehot_strings(["ACGTNACGTACGTTTGGCAN", "A" * 20])  # N columns are 0.25: every base is an edit there
    # float32 rounding of logits near 1, as above (5e-7 at most seen)
    np.testing.assert_allclose(attribution.saturation_mutagenesis(model, x), _brute_force_ism(model, x), atol=1e-5)
    plain = nn.Sequential(nn.Conv1d(4, 3, 5), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 16, 2)).eval()
    np.testing.assert_allclose(attribution.saturation_mutagenesis(plain, x), _brute_force_ism(plain, x), atol=1e-5)


def test_gradient_x_input_of_a_linear_model_adds_up_to_the_score():
    torch.manual_seed(0)
    linear = nn.Sequential(nn.Conv1d(4, 3, 5, bias=False), nn.Flatten(), nn.Linear(3 * 26, 2, bias=False)).eval()
    x = onehot_strings(random_dna(4, 30))
    gxi = attribution.gradient_x_input(linear, x)
    assert np.all(gxi[x == 0] == 0)
    with torch.no_grad():
        score = attribution.class_score(linear(torch.tensor(x)), 1).numpy()
    np.testing.assert_allclose(gxi.sum(axis=(1, 2)), score, rtol=1e-4, atol=1e-5)  # float32 sums of 120 terms


def test_deeplift_rewrite_computes_the_same_function():
    for layers in (DEEPBIND_LIKE, PRIMER_LIKE):
        model = _spec_model(layers, 24)
        plain, _ = attribution.deeplift_module(model)
        x = torch.tensor(onehot_strings(random_dna(5, 24)))
        with torch.no_grad():
            torch.testing.assert_close(plain(x), model(x))
        assert any(isinstance(m, nn.ReLU) for m in plain.modules())


def test_deep_lift_shap_converges_on_spec_models():
    model = _spec_model(PRIMER_LIKE, 24)
    x = onehot_strings(random_dna(3, 24, seed=2))
    with warnings.catch_warnings():
        # tangermeme warns (RuntimeWarning) when attributions do not add up; tangermeme < 1.6 also makes numba
        # warn, on import, of an ignored option (a DeprecationWarning that Python hides from users)
        warnings.simplefilter("error", RuntimeWarning)
        attr = attribution.deep_lift_shap(model, x, n_shuffles=4)
    assert attr.shape == x.shape and np.all(attr[x == 0] == 0) and np.abs(attr).max() > 0
    with pytest.raises(InputError, match="A, C, G and T only"):
        attribution.deep_lift_shap(model, onehot_strings(["N" * 24]))


def test_deep_lift_shap_rescales_an_exponential_activation():
    """seqcnn's own rule for ``exp`` (tangermeme has none): without it the sums miss and tangermeme warns."""
    exp_head = [{"Conv1D": {"filters": 4, "kernel_size": 5, "activation": "exponential"}},
                {"GlobalMaxPooling1D": {}}] + HEAD
    model = _spec_model(exp_head, 24)
    _, extra_ops = attribution.deeplift_module(model)
    assert extra_ops == {attribution.Exp: attribution.rescale_rule}
    x = onehot_strings(random_dna(3, 24, seed=3))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # tangermeme's warning that the sums miss
        attr = attribution.deep_lift_shap(model, x, n_shuffles=4)
    assert np.abs(attr).max() > 0


def test_rescale_rule_is_the_secant_with_the_gradient_where_the_input_stays():
    layer = attribution.Exp()
    layer.input = torch.tensor([[1.0, 0.5], [0.0, 0.5]])  # one sequence's input, then its reference's
    layer.output = torch.exp(layer.input)
    grad_in, grad_out = torch.tensor([[7.0, 8.0], [9.0, 10.0]]), torch.tensor([[2.0, 3.0], [4.0, 5.0]])
    (got,) = attribution.rescale_rule(layer, (grad_in,), (grad_out,))
    secant = np.e - 1.0  # (e^1 - e^0) / (1 - 0); the second input does not move: its gradient stays
    torch.testing.assert_close(got, torch.tensor([[2.0 * secant, 8.0], [4.0 * secant, 10.0]]))


def test_attributions_check_the_length():
    model = _spec_model(DEEPBIND_LIKE, 20)
    with pytest.raises(InputError, match="length 25, but the model expects 20"):
        attribution.gradient_x_input(model, onehot_strings(random_dna(1, 25)))


def test_best_window():
    attr = np.zeros((2, 4, 10))
    attr[0, 1, 6:9] = 1.0
    attr[1, 0, 0] = 5.0
    assert attribution.best_window(attr, 3).tolist() == [6, 0]


# --- filters -------------------------------------------------------------------------------


def test_filter_pwm_recovers_the_motif_it_detects():
    motif = "ACGTTGCA"
    seqs = random_dna(200, 30, seed=3)
    seqs = [s[:5] + motif + s[13:] if i % 2 else s for i, s in enumerate(seqs)]
    conv = nn.Conv1d(4, 2, len(motif))
    with torch.no_grad():
        conv.weight.zero_()
        conv.weight[0] = torch.tensor(onehot_strings([motif])[0])  # score = matching bases
        conv.bias.zero_()
        conv.weight[1] = -1.0  # never positive: no sites
    model = nn.Sequential(conv, nn.ReLU(), nn.Flatten(), nn.Linear(2 * 23, 2))
    found = filters.filter_motifs(model, onehot_strings(seqs), threshold=0.99)
    expected = sum(s.count(motif) for s in seqs)
    assert found.n_sites.tolist() == [expected, 0]
    pwm = found.pwms()[0]
    assert filters.consensus(pwm) == motif
    assert found.information_content()[0] > 14 and found.information_content()[1] == 0


def test_filter_windows_follow_same_padding():
    model = _spec_model([{"Conv1D": {"filters": 3, "kernel_size": 5, "padding": "same"}}, {"Flatten": {}},
                         {"Dense": {"units": 2, "activation": "softmax"}}], 12)
    x = onehot_strings(random_dna(40, 12, seed=4))
    found = filters.filter_motifs(model, x, threshold=0.5)
    with torch.no_grad():
        act = filters.filter_activations(model.layers[0], torch.tensor(x)).numpy()  # (N, F, 12)
    top = act.max(axis=(0, 2))
    assert found.n_sites.tolist() == [(act[:, f] > 0.5 * top[f]).sum() for f in range(3)]
    # an edge window is padded with zeros: its column sums are below the site count
    assert found.counts.sum(axis=1).max() <= found.n_sites.max()


def test_models_without_a_conv1d_first_layer_are_refused():
    dense = _spec_model([{"Flatten": {}}, {"Dense": {"units": 2, "activation": "softmax"}}], 10)
    with pytest.raises(SpecError, match="Conv1D first layer over the 4 bases, but the model's first layer is Dense"):
        filters.filter_motifs(dense, onehot_strings(random_dna(2, 10)))
    with pytest.raises(InputError, match=r"threshold must be in \(0, 1\]"):
        filters.filter_motifs(_spec_model(DEEPBIND_LIKE, 20), onehot_strings(random_dna(2, 20)), threshold=0)


# --- JASPAR -------------------------------------------------------------------------------


def test_jaspar_2024_core_vertebrates_opens_offline():
    motifs = jaspar.load_jaspar("JASPAR2024", "CORE", "vertebrates")
    assert len(motifs) == 879
    ctcf = next(m for m in motifs if m.id.startswith("MA0139"))
    assert ctcf.name == "CTCF" and ctcf.pwm.shape == (4, 15)  # MA0139.2, the trimmed 2024 matrix
    np.testing.assert_allclose(ctcf.pwm.sum(axis=0), 1.0)


@pytest.mark.parametrize(
    "args, expected",
    [(("JASPAR2099",), "unknown JASPAR release 'JASPAR2099'; valid releases: JASPAR2014"),
     (("JASPAR2024", "COREE"), "unknown JASPAR collection 'COREE' in JASPAR2024; valid collections: CORE, UNVALIDATED"),
     (("JASPAR2024", "CORE", "mammals"), "unknown JASPAR taxonomic group 'mammals'")],
)
def test_unknown_jaspar_choices_list_the_valid_ones(args, expected):
    with pytest.raises(InputError, match=expected):
        jaspar.load_jaspar(*args)


def test_benjamini_hochberg():
    p = np.array([[0.01, 0.04, 0.03, 0.5]])
    # sorted 0.01, 0.03, 0.04, 0.5 -> 0.04, 0.06, 0.0533, 0.5 -> monotone 0.04, 0.0533, 0.0533, 0.5
    np.testing.assert_allclose(motif_matching.benjamini_hochberg(p), [[0.04, 0.16 / 3, 0.16 / 3, 0.5]])


def test_a_jaspar_motif_matches_itself_first():
    motifs = jaspar.load_jaspar()
    gata1 = next(m for m in motifs if m.id.startswith("MA0035"))
    (best, *_), = motif_matching.match([gata1.pwm[::-1, ::-1].copy()], motifs)  # its reverse complement
    # a matrix against itself: the q-value is orders of magnitude below 1e-3 (float64 statistics, no training)
    assert motifs[best.target].id == gata1.id and best.orientation == "-" and best.q_value < 1e-3


def _sample_sites(motif: jaspar.Motif, n: int, rng) -> list[str]:
    cum = np.cumsum(motif.pwm, axis=0)  # (4, W)
    draws = (rng.random((n, 1, motif.pwm.shape[1])) > cum[None]).sum(axis=1)  # (n, W) base indices
    return ["".join("ACGT"[b] for b in row) for row in np.minimum(draws, 3)]


def test_planted_ctcf_and_gata1_are_each_some_filters_top_match():
    """Train on sequences with CTCF or GATA1 sites drawn from their JASPAR matrices; the
    filters' best Tomtom matches must include both planted motifs."""
    from seqcnn.data.batches import sequence_set
    from seqcnn.interpret.explain import _trimmed
    from seqcnn.sequence import encode_batch
    from seqcnn.training.loop import fit
    from seqcnn.training.recipes import TrainConfig

    motifs = jaspar.load_jaspar()
    planted = {m.id.split(".")[0]: m for m in motifs if m.id.split(".")[0] in ("MA0139", "MA0035")}
    rng = np.random.default_rng(0)
    n, length = 1200, 60
    seqs, labels = random_dna(n, length, seed=5), np.zeros(n, dtype=np.int64)
    sites = {k: iter(_sample_sites(m, n, rng)) for k, m in planted.items()}
    for i in range(n):
        if i % 3:
            site = next(sites["MA0139" if i % 3 == 1 else "MA0035"])
            start = int(rng.integers(0, length - len(site) + 1))
            seqs[i] = seqs[i][:start] + site + seqs[i][start + len(site):]
            labels[i] = 1
    codes = encode_batch(seqs)
    torch.manual_seed(0)
    model = build_model(
        ModelSpec.from_obj(
            [
                {"Conv1D": {"filters": 8, "kernel_size": 19, "activation": "relu"}},
                {"GlobalMaxPooling1D": {}},
                {"Dense": {"units": 2, "activation": "softmax"}},
            ]
        ),
        (4, length),
    )
    fit(model, sequence_set(codes[:1000], labels[:1000]), sequence_set(codes[1000:], labels[1000:]),
        TrainConfig(epochs=20, batch_size=64, lr=1e-2, threads=2).check(), progress=False)
    found = filters.filter_motifs(model.eval(), onehot(codes))
    pwms = [_trimmed(p) for p, k in zip(found.pwms(), found.n_sites) if k > 0]
    tops = {motifs[m[0].target].id.split(".")[0] for m in motif_matching.match(pwms, motifs)}
    # trained, so it depends on the float path: both motifs were found with torch seeds 0-3, under
    # ATEN_CPU_CAPABILITY=avx512 and default (CTCF at q < 1e-19 every time)
    assert {"MA0139", "MA0035"} <= tops


# --- the explain command ------------------------------------------------------------------


@pytest.fixture
def run_copy(trained_run, tmp_path):
    dest = tmp_path / "run"
    shutil.copytree(trained_run, dest)
    return dest


def test_explain_writes_the_run_files(cli, run_copy):
    from memelite.io import read_meme as memelite_read

    code, out, err = cli("explain", run_copy, "--sequences", "3", "--shuffles", "3", "--quiet")
    assert code == 0, err
    assert "motifs.tsv" in out
    summary = json.loads((run_copy / "explain.json").read_text())
    assert len(summary["sequences"]["ids"]) == 3
    assert summary["filters"]["jaspar"] == {"release": "JASPAR2024", "collection": "CORE", "tax_group": "vertebrates",
                                            "n_motifs": 879, "extra_motifs": []}
    # the chosen sequences are correctly classified positives, best first
    rows = [line.split("\t") for line in (run_copy / "predictions.tsv").read_text().splitlines()[1:]]
    best = sorted((r for r in rows if r[1] == "1" and r[3] == "1"), key=lambda r: -float(r[2]))[:3]
    assert summary["sequences"]["ids"] == [r[0] for r in best]
    npz = np.load(run_copy / "attributions.npz", allow_pickle=False)
    assert npz["ids"].tolist() == summary["sequences"]["ids"]
    for key in ("gradient_x_input", "ism", "deep_lift_shap"):
        assert npz[key].shape == npz["sequences"].shape == (3, 4, 50)
    saliency = sorted(p.name for p in (run_copy / "plots" / "saliency").glob("*.png"))
    assert saliency == [f"{k:02d}_{i}.png" for k, i in enumerate(summary["sequences"]["ids"])]
    memes = memelite_read(str(run_copy / "motifs.meme"))
    assert len(memes) == summary["filters"]["with_sites"] > 0
    header, *lines = (run_copy / "motifs.tsv").read_text().splitlines()
    assert header.split("\t") == [
        "filter",
        "information_content",
        "n_sites",
        "jaspar_id",
        "jaspar_name",
        "p_value",
        "q_value",
        "orientation",
    ]
    assert {line.split("\t")[0] for line in lines} == {f"filter_{i:02d}" for i in range(32)}
    matched = [line.split("\t") for line in lines if line.split("\t")[3]]
    for a, b in zip(matched, matched[1:]):  # best first within each filter
        if a[0] == b[0]:
            assert float(a[5]) <= float(b[5])
    logos = {p.stem for p in (run_copy / "plots" / "filters").glob("*.png")}
    assert logos == {name.split()[0] for name in memes}
    # no attention layer: no attention files, no section
    assert "attention" not in summary and not (run_copy / "attention.npz").exists()
    assert not (run_copy / "plots" / "attention").exists()
    assert 'id="attention"' not in (run_copy / "report.html").read_text()


def test_explain_a_file_with_hostile_ids(cli, run_copy, tmp_path):
    fasta = tmp_path / "x.fa"
    seqs = random_dna(2, 50, seed=9)
    fasta.write_text(f">../../escape\n{seqs[0]}\n>a/b\\c\n{seqs[1]}\n")
    code, _, err = cli("explain", run_copy, fasta, "--shuffles", "2", "--no-filters", "--quiet")
    assert code == 0, err
    names = sorted(p.name for p in (run_copy / "plots" / "saliency").iterdir())
    assert len(names) == 2 and all("/" not in n and not n.startswith(".") for n in names)
    assert not (tmp_path / "escape.png").exists() and not list(tmp_path.glob("*escape*"))


def _dense_run(run_copy):
    from seqcnn.runs.folder import save_model

    save_model(run_copy, _spec_model([{"Flatten": {}}, {"Dense": {"units": 2, "activation": "softmax"}}], 50))
    return run_copy


@pytest.mark.parametrize(
    "setup, extra, expected",
    [
        (lambda run, tmp: (run / "model.safetensors").unlink(), [], "weights file missing"),
        (lambda run, tmp: (tmp / "short.txt").write_text("ACGT\n"), ["FILE"], "sequence has length 4, expected 50"),
        (lambda run, tmp: None, ["--jaspar-release", "JASPAR1999"], "unknown JASPAR release 'JASPAR1999'"),
        (lambda run, tmp: None, ["--collection", "MAIN"], "unknown JASPAR collection 'MAIN'"),
        (
            lambda run, tmp: _dense_run(run),
            [],
            "need a Conv1D first layer over the 4 bases, but the model's first layer is Dense",
        ),
        (lambda run, tmp: (run / "predictions.tsv").unlink(), [], "predictions.tsv: missing"),
    ],
    ids=["no-weights", "wrong-length", "release", "collection", "no-conv1d", "no-predictions"],
)
def test_bad_input_is_one_line_and_status_2(cli, run_copy, tmp_path, setup, extra, expected):
    setup(run_copy, tmp_path)
    args = [str(tmp_path / "short.txt") if a == "FILE" else a for a in extra]
    code, out, err = cli("explain", run_copy, *args, "--quiet")
    assert code == 2
    assert err.startswith("seqcnn: error: ") and err.count("\n") == 1
    assert expected in err
    assert not (run_copy / "explain.json").exists()


# --- attention weights --------------------------------------------------------------------

ATTENTION = [{"Conv1D": {"filters": 16, "kernel_size": 12, "activation": "relu"}}, {"MaxPooling1D": {"pool_size": 2}},
             {"SinePositionEncoding": {}}, {"MultiHeadAttention": {"num_heads": 4, "key_dim": 8}},
             {"GlobalMaxPooling1D": {}}, {"Dense": {"units": 2, "activation": "softmax"}}]


def test_explain_saves_and_draws_the_attention_of_chosen_sequences(cli, tmp_path):
    import seqcnn

    spec = tmp_path / "attention.json"
    spec.write_text(json.dumps(ATTENTION))
    run = seqcnn.train(model=str(spec), epochs=2, out=tmp_path / "run", progress=False)
    code, out, err = cli("explain", run, "--sequences", "3", "--shuffles", "2", "--no-filters", "--quiet")
    assert code == 0, err
    assert "attention weights of layer 3 (MultiHeadAttention, 4 heads, 19 positions)" in out
    summary = json.loads((run / "explain.json").read_text())
    npz = np.load(run / "attention.npz", allow_pickle=False)
    weights = npz["weights"]
    assert weights.shape == (3, 4, 19, 19)  # (sequences, heads, L', L'): (50 - 12 + 1) // 2 positions after pooling
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-5)  # each query's weights over the keys (19 x 6e-8)
    assert npz["ids"].tolist() == summary["sequences"]["ids"] and int(npz["layer"]) == 3
    np.testing.assert_allclose(npz["centres"], 6 + 2 * np.arange(19))  # pairs of 12-wide windows: 13 bases
    plots = sorted(p.name for p in (run / "plots" / "attention").glob("*.png"))
    assert plots == [f"{k:02d}_{i}.png" for k, i in enumerate(summary["sequences"]["ids"])]
    assert summary["attention"]["plots"] == [f"plots/attention/{p}" for p in plots]
    page = (run / "report.html").read_text()
    assert 'id="attention"' in page and page.count('alt="attention ') == 3 and "Layer 3 (MultiHeadAttention" in page


def test_attention_at_every_input_position_is_labelled_with_its_bases(tmp_path):
    from seqcnn.interpret.attention import _letters, save_attention

    layers = [{"Conv1D": {"filters": 8, "kernel_size": 5, "padding": "same"}},
              {"TransformerEncoder": {"intermediate_dim": 16, "num_heads": 2}},
              {"GlobalAveragePooling1D": {}}, {"Dense": {"units": 2, "activation": "softmax"}}]
    model = _spec_model(layers, 20)
    seqs = random_dna(2, 20, seed=4)
    x = onehot_strings(seqs)
    x[1, :, 3] = 0.25  # an N
    assert _letters(x, np.arange(20.0)) == [seqs[0], seqs[1][:3] + "N" + seqs[1][4:]]
    assert _letters(x, 0.5 + 2 * np.arange(10.0)) is None  # pooled positions cover several bases
    summary = save_attention(model, ["a", "b"], x, tmp_path)
    assert summary["layer_type"] == "TransformerEncoder" and summary["heads"] == 2 and summary["positions"] == 20
    weights = np.load(tmp_path / "attention.npz")["weights"]
    assert weights.shape == (2, 2, 20, 20) and np.allclose(weights.sum(-1), 1.0, atol=1e-5)  # softmax: 20 x 6e-8
    assert (tmp_path / "plots" / "attention" / "00_a.png").stat().st_size > 1000
    assert save_attention(_spec_model(DEEPBIND_LIKE, 20), ["a", "b"], x, tmp_path / "none") is None
    assert not (tmp_path / "none").exists()
