"""Variant scoring (seqcnn.interpret.variants, seqcnn.io.vcf, `seqcnn variants`): windows, skips, scores, the CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from seqcnn.errors import InputError

CORPUS = Path(__file__).parent / "data" / "bad"
MOTIF = "TGACGCA"  # not its own reverse complement, so one strand sees it
HEAD = "##fileformat=VCFv4.2\n##contig=<ID=chr1>\n##contig=<ID=chr2>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"


def sigmoid(x: float) -> float:
    return 1 / (1 + np.exp(-x))


def logit(p: float) -> float:
    return float(np.log(p / (1 - p)))


def random_chrom(n: int, seed: int) -> str:
    rng = np.random.default_rng(seed)
    while True:  # a background without the motif on either strand
        seq = "".join("ACGT"[i] for i in rng.integers(0, 4, n))
        if MOTIF not in seq and "TGCGTCA" not in seq:
            return seq


@pytest.fixture
def genome(tmp_path) -> tuple[Path, dict[str, str]]:
    """chr1 (600 bp, the motif at 1-based 301..307) and chr2 (300 bp), 60 bases a line."""
    chr1 = random_chrom(600, 1)
    chr1 = chr1[:300] + MOTIF + chr1[307:]
    chroms = {"chr1": chr1, "chr2": random_chrom(300, 2)}
    path = tmp_path / "genome.fa"
    path.write_text(
        "".join(f">{c}\n" + "\n".join(s[i : i + 60] for i in range(0, len(s), 60)) + "\n" for c, s in chroms.items())
    )
    return path, chroms


def save_run(path: Path, spec: list, length: int, rc_average: bool, weights=None, seed: int = 0) -> Path:
    """A run folder made by hand: model.json, model.safetensors, config.json."""
    from seqcnn.files import atomic_write_json
    from seqcnn.models.network import build_model
    from seqcnn.models.spec import ModelSpec
    from seqcnn.runs.folder import save_model

    torch.manual_seed(seed)
    model = build_model(ModelSpec.from_obj(spec), (4, length))
    if weights is not None:
        weights(model)
    path.mkdir(parents=True, exist_ok=True)
    save_model(path, model)
    atomic_write_json(path / "config.json", {"predict": {"rc_average": rc_average}})
    return path


def motif_weights(model) -> None:
    """Filter 0 fires (1.0) only on an exact MOTIF; class 1's logit is 5 x that filter - 2."""
    conv, dense = model.layers[0], model.layers[2]
    with torch.no_grad():
        conv.weight.fill_(0)
        conv.bias.fill_(0)
        for k, base in enumerate(MOTIF):
            conv.weight[0, :, k] = -1.0
            conv.weight[0, "ACGT".index(base), k] = 1.0
        conv.bias[0] = -(len(MOTIF) - 1)
        dense.weight.fill_(0)
        dense.bias.copy_(torch.tensor([0.0, -2.0]))
        dense.weight[1, 0] = 5.0


def deepbind_spec(filters: int = 4, kernel: int = 7, classes: int = 2) -> list:
    return [
        {"Conv1D": {"filters": filters, "kernel_size": kernel, "activation": "relu"}},
        {"GlobalMaxPooling1D": {}},
        {"Dense": {"units": classes, "activation": "softmax"}},
    ]


@pytest.fixture
def motif_run(tmp_path) -> Path:
    return save_run(tmp_path / "run", deepbind_spec(), 41, rc_average=True, weights=motif_weights)


def vcf(tmp_path: Path, rows: list[str], name: str = "v.vcf", head: str = HEAD) -> Path:
    path = tmp_path / name
    path.write_text(head + "".join(r if r.endswith("\n") else r + "\n" for r in rows))
    return path


# --- reading ------------------------------------------------------------------------------------


def test_multi_allelic_records_are_split_and_unscorable_alleles_counted():
    from seqcnn.io.vcf import read_variants

    variants, skips = read_variants(CORPUS / "vcf_skipped_alleles.vcf", "vcf")
    assert [v.alt for v in variants] == [b for b in "ACGT" if b != variants[0].ref]
    assert {v.pos for v in variants} == {1300} and all(v.line == 7 for v in variants)
    assert skips.counts == {
        "symbolic ALT": 2,
        "ALT '*' (spanning deletion)": 1,
        "missing ALT": 1,
        "allele with letters other than A, C, G, T, N": 1,
    }
    assert skips.first["symbolic ALT"].endswith("line 4: chr1:1000 " + skips.first["symbolic ALT"].split()[-1])
    assert "<DEL>" in skips.first["symbolic ALT"]


def test_bgzipped_vcf_reads_like_the_plain_file(tmp_path):
    import pysam

    from seqcnn.io.vcf import read_variants

    plain = vcf(tmp_path, ["chr1\t10\trs1\tA\tG,T\t.\t.\t.", "chr2\t5\t.\tAC\tA\t.\t.\t."])
    pysam.tabix_compress(str(plain), str(tmp_path / "v.vcf.gz"))
    a, _ = read_variants(plain, "vcf")
    b, _ = read_variants(tmp_path / "v.vcf.gz", "vcf")
    assert a == b and [(v.id, v.ref, v.alt) for v in a] == [("rs1", "A", "G"), ("rs1", "A", "T"), (".", "AC", "A")]


def test_table_with_header_ids_and_comma_separated_alts(tmp_path):
    from seqcnn.io.vcf import read_variants

    path = tmp_path / "t.tsv"
    path.write_text("# my variants\nchrom\tpos\tref\talt\tid\nchr1\t12\tA\tC,G\tx1\nchr2 7 t a\n")
    variants, skips = read_variants(path, "table")
    assert [(v.chrom, v.pos, v.ref, v.alt, v.id, v.line) for v in variants] == [
        ("chr1", 12, "A", "C", "x1", 3),
        ("chr1", 12, "A", "G", "x1", 3),
        ("chr2", 7, "T", "A", ".", 4),
    ]
    assert skips.total() == 0


# --- windows ------------------------------------------------------------------------------------


def windows_of(genome_path, rows, length=11, **kwargs):
    from seqcnn.interpret.variants import make_windows
    from seqcnn.io.bed import Genome
    from seqcnn.io.vcf import Skips, Variant
    from seqcnn.sequence import decode

    skips = Skips()
    variants = [Variant(c, p, ".", r, a, i + 1) for i, (c, p, r, a) in enumerate(rows)]
    w = make_windows(variants, Genome(genome_path), length, skips, source="v.vcf", **kwargs)
    return decode(w.ref), decode(w.alt), w, skips


def test_windows_centre_the_ref_allele_and_keep_their_start_for_the_alt(genome):
    path, chroms = genome
    c = chroms["chr1"]
    rows = [
        ("chr1", 100, c[99], "A" if c[99] != "A" else "C"),  # SNV at 0-based 99
        ("chr1", 100, c[99:102], "GGG"),  # MNV: centred on its middle base (0-based 100)
        ("chr1", 100, c[99:103], c[99]),  # deletion of 3 bases after the anchor
        ("chr1", 100, c[99], c[99] + "TT"),
    ]  # insertion of 2 bases after the anchor
    ref, alt, w, skips = windows_of(path, rows)
    assert skips.total() == 0
    assert ref[0] == c[94:105] and alt[0] == c[94:99] + rows[0][3] + c[100:105]
    assert ref[1] == c[95:106] and alt[1] == c[95:99] + "GGG" + c[102:106]
    assert ref[2] == c[95:106] and alt[2] == c[95:100] + c[103:109]  # extended from the genome after REF
    assert ref[3] == c[94:105] and alt[3] == c[94:100] + "TT" + c[100:103]  # cut to 11 bases
    assert w.start.tolist() == [94, 95, 95, 94]


def test_ref_mismatch_is_skipped_counted_named_and_an_error_with_strict_ref(genome):
    path, chroms = genome
    c = chroms["chr1"]
    wrong = "ACGT"[("ACGT".index(c[199]) + 1) % 4]
    wrong_pair = "ACGT"[("ACGT".index(c[249]) + 1) % 4] + c[250]
    rows = [("chr1", 150, c[149], "N"), ("chr1", 200, wrong, c[199]), ("chr1", 250, wrong_pair, "G")]
    _, _, w, skips = windows_of(path, rows)
    assert [v.pos for v in w.variants] == [150]
    assert skips.counts == {"REF does not match the genome": 2}
    assert (
        skips.first["REF does not match the genome"] == f"v.vcf, line 2: chr1:200 {wrong}>{c[199]}, genome has {c[199]}"
    )
    with pytest.raises(
        InputError,
        match=rf"v.vcf, line 2: chr1:200 {wrong}>.: REF {wrong} does not match the genome .*which has {c[199]}",
    ):
        windows_of(path, rows, strict_ref=True)


def test_windows_off_the_chromosome_are_skipped_or_an_error_with_strict(genome):
    path, chroms = genome
    c = chroms["chr2"]
    rows = [
        ("chr2", 3, c[2], "A" if c[2] != "A" else "C"),
        ("chr2", 296, c[295], "A" if c[295] != "A" else "C"),
        ("chr2", 150, c[149], "A" if c[149] != "A" else "C"),
    ]
    _, _, w, skips = windows_of(path, rows)
    assert [v.pos for v in w.variants] == [150] and skips.counts == {"window runs off the chromosome": 2}
    with pytest.raises(
        InputError, match=r"line 1: chr2:3 .*the 11 bp window chr2:-2-8 runs off the chromosome \(length 300\)"
    ):
        windows_of(path, rows, strict=True)


def test_contigs_differing_by_chr_are_mapped_and_others_refused(genome):
    from seqcnn.interpret.variants import map_contigs
    from seqcnn.io.bed import Genome

    g = Genome(genome[0])
    assert map_contigs(["1", "2", "1"], g, "v.vcf") == {"1": "chr1", "2": "chr2"}
    assert map_contigs(["chr1"], g, "v.vcf") == {}
    with pytest.raises(
        InputError, match=r"v.vcf: contig '3' is not in the genome .*1 contig\(s\) missing; the genome has chr1, chr2\)"
    ):
        map_contigs(["1", "3"], g, "v.vcf")
    assert map_contigs(["1", "3"], g, "v.vcf", skip_missing=True) == {"1": "chr1"}


# --- scores -------------------------------------------------------------------------------------


@pytest.mark.parametrize("rc_average", [False, True])
def test_the_fast_first_layer_path_gives_the_whole_model_scores(tmp_path, rc_average):
    from seqcnn.interpret.variants import Scorer
    from seqcnn.runs.folder import load_model

    run = save_run(tmp_path / "r", deepbind_spec(filters=16, kernel=9), 31, rc_average, seed=3)
    model = load_model(run)
    rng = np.random.default_rng(0)
    ref = rng.integers(0, 4, (40, 31)).astype(np.uint8)
    ref[:4, :5] = 4  # N at the window's edge
    alt = ref.copy()
    alt[:20, 15] = (alt[:20, 15] + 1) % 4  # SNVs
    alt[20:30, 14:17] = rng.integers(0, 4, (10, 3))  # MNVs
    alt[30:, 15:] = np.roll(ref[30:, 15:], 2, axis=1)  # an indel shifts the right part
    fast, full = Scorer(model, rc_average, batch_size=16), Scorer(model, rc_average, fast=False, batch_size=16)
    assert fast.first is not None and full.first is None
    for a, b in zip(fast.score(ref, alt), full.score(ref, alt)):
        np.testing.assert_allclose(a, b, atol=2e-5)  # float32 log-odds in other orders: 2.4e-7 apart at most seen
    assert np.abs(fast.score(ref, alt)[1] - fast.score(ref, alt)[0]).max() > 1e-3  # the alleles differ


def test_scores_are_the_log_odds_of_what_predict_reports(tmp_path):
    import seqcnn
    from seqcnn.interpret.variants import Scorer
    from seqcnn.runs.folder import load_model

    spec = [
        {"Conv1D": {"filters": 8, "kernel_size": 5, "activation": "relu"}},
        {"MaxPooling1D": {"pool_size": 2}},
        {"Flatten": {}},
        {"Dense": {"units": 2, "activation": "softmax"}},
    ]
    model = load_model(save_run(tmp_path / "r", spec, 20, True, seed=5))
    codes = np.random.default_rng(1).integers(0, 4, (12, 20)).astype(np.uint8)
    scorer = Scorer(model, rc_average=True)
    assert scorer.first is None  # not Conv1D -> global max: the whole model runs
    probs = seqcnn.predict(model, codes, rc_average=True)[:, 1]
    np.testing.assert_allclose(scorer.score(codes, codes)[0][:, 0], np.log(probs / (1 - probs)), atol=1e-4)


def test_multi_class_scores_the_last_class_unless_told(tmp_path):
    from seqcnn.interpret.variants import Scorer
    from seqcnn.runs.folder import load_model

    model = load_model(save_run(tmp_path / "r", deepbind_spec(classes=3), 20, False, seed=2))
    codes = np.random.default_rng(2).integers(0, 4, (5, 20)).astype(np.uint8)
    with torch.no_grad():
        p = (
            torch.softmax(model(torch.from_numpy(np.moveaxis(np.eye(4, dtype=np.float32)[codes], 2, 1))), 1)
            .double()
            .numpy()
        )
    for target, column in ((None, 2), (0, 0)):
        scorer = Scorer(model, target=target)
        assert scorer.tasks == [column] and f"class {column}" in scorer.describe()
        np.testing.assert_allclose(
            scorer.score(codes, codes)[0][:, 0], np.log(p[:, column] / (1 - p[:, column])), atol=1e-4
        )
    with pytest.raises(InputError, match=r"--target-class must be in 0..2 .*got 3"):
        Scorer(model, target=3)


# --- the command line ---------------------------------------------------------------------------


def test_cli_scores_site_variants_below_background_and_never_a_ref_mismatch(cli, tmp_path, genome, motif_run):
    path, chroms = genome
    c = chroms["chr1"]
    other = lambda b: "A" if b != "A" else "C"
    rows = [
        f"chr1\t303\tsite\t{c[302]}\t{other(c[302])}\t.\t.\t.",  # inside the motif (1-based 301..307)
        f"chr1\t100\tfar\t{c[99]}\t{','.join(b for b in 'ACGT' if b != c[99])[:3]}\t.\t.\t.",  # multi-allelic
        f"chr1\t320\tmismatch\t{other(c[319])}\t{c[319]}\t.\t.\t.",
        "chr1\t250\tsv\tA\t<DEL>\t.\t.\t.",
    ]
    code, out, err = cli(
        "variants", motif_run, "--vcf", vcf(tmp_path, rows), "--genome", path, "-o", tmp_path / "s.tsv", "--top", "2"
    )
    assert code == 0, err
    lines = (tmp_path / "s.tsv").read_text().splitlines()
    assert lines[0].split("\t") == ["chrom", "pos", "id", "ref", "alt", "ref_score", "alt_score", "delta"]
    table = {(r.split("\t")[2], r.split("\t")[4]): [float(x) for x in r.split("\t")[5:]] for r in lines[1:]}
    assert [k[0] for k in table] == ["site", "far", "far"]  # input order; the mismatch never appears
    ref, alt, delta = table[("site", other(c[302]))]
    assert ref == pytest.approx(logit((sigmoid(3) + sigmoid(-2)) / 2), abs=1e-4) and alt == pytest.approx(-2, abs=1e-4)
    assert delta == pytest.approx(alt - ref, abs=1e-4) and delta < -2  # 6 printed digits; hand-set weights
    assert all(abs(v[2]) < 1e-6 for k, v in table.items() if k[0] == "far")  # integer activations: exactly 0
    assert "scored 3 variant allele(s); skipped 2: " in out and "1 REF does not match the genome (first: " in out
    assert "line 7: chr1:320" in out and "1 symbolic ALT" in out and str(tmp_path / "s.tsv") in out
    info = json.loads((motif_run / "variants.json").read_text())
    top = info["top"][0]
    assert (top["id"], top["variant_offset"], len(top["ref_attribution"])) == ("site", 20, 41)
    assert top["ref_sequence"][18:25] == MOTIF and top["ref_sequence"][20] != top["alt_sequence"][20]
    # no site: the ReLU is off everywhere and the gradient is exactly 0
    assert sum(top["ref_attribution"][18:25]) > 1 and abs(sum(top["alt_attribution"])) < 1e-6
    assert (motif_run / top["plot"]).stat().st_size > 1000 and len(info["top"]) == 2
    page = (motif_run / "report.html").read_text()  # the run's page redrawn with the top variants
    assert f"report: {motif_run / 'report.html'}" in out and '<section id="variants">' in page
    assert 'id="variants-scored">3<' in page


def test_cli_maps_chr_prefixes_and_refuses_unknown_contigs(cli, tmp_path, genome, motif_run):
    path, chroms = genome
    c = chroms["chr1"]
    rows = [f"1\t200\t.\t{c[199]}\t{'A' if c[199] != 'A' else 'C'}\t.\t.\t."]
    plain = HEAD.replace("ID=chr", "ID=")
    code, out, _ = cli(
        "variants", motif_run, "--vcf", vcf(tmp_path, rows, head=plain), "--genome", path, "-o", tmp_path / "s.tsv"
    )
    assert code == 0 and "mapped 1 -> chr1" in out
    assert (tmp_path / "s.tsv").read_text().splitlines()[1].startswith("1\t200\t")  # the file's own names are kept
    code, _, err = cli(
        "variants",
        motif_run,
        "--vcf",
        vcf(
            tmp_path,
            rows + ["chrUn_x\t5\t.\tA\tG\t.\t.\t."],
            "u.vcf",
            plain.replace("#CHROM", "##contig=<ID=chrUn_x>\n#CHROM"),
        ),
        "--genome",
        path,
        "-o",
        tmp_path / "u.tsv",
    )
    assert code == 2 and "contig 'chrUn_x' is not in the genome" in err and not (tmp_path / "u.tsv").exists()


def test_cli_keeps_the_order_of_an_unsorted_vcf(cli, tmp_path):
    corpus = tmp_path / "bad"
    shutil.copytree(CORPUS, corpus)
    code, out, err = cli(
        "variants",
        corpus / "variants_run",
        "--vcf",
        corpus / "vcf_unsorted.vcf",
        "--genome",
        corpus / "genome.fa",
        "-o",
        tmp_path / "s.tsv",
        "--top",
        "0",
    )
    assert code == 0, err
    assert [line.split("\t")[1] for line in (tmp_path / "s.tsv").read_text().splitlines()[1:]] == [
        "2000",
        "500",
        "1500",
    ]
    assert "skipped 0: none" in out and not (corpus / "variants_run" / "variants.json").exists()


def test_cli_table_input(cli, tmp_path, genome, motif_run):
    path, chroms = genome
    c = chroms["chr1"]
    table = tmp_path / "v.tsv"
    table.write_text(f"chr1\t304\t{c[303]}\t{'A' if c[303] != 'A' else 'C'}\tmy_snv\n")
    code, _, err = cli("variants", motif_run, "--variants", table, "--genome", path, "--top", "0")
    assert code == 0, err
    row = (motif_run / "variants.tsv").read_text().splitlines()[1].split("\t")
    assert row[2] == "my_snv" and float(row[7]) < -2


def test_multi_task_runs_get_one_set_of_columns_per_task(tmp_path, genome):
    from seqcnn.interpret.variants import score_variants, write_scores

    spec = deepbind_spec(classes=3)
    spec[-1]["Dense"]["activation"] = "sigmoid"  # three independent tasks
    run = save_run(tmp_path / "r", spec, 21, True, seed=4)
    path, chroms = genome
    c = chroms["chr1"]
    table = tmp_path / "v.tsv"
    table.write_text(f"chr1\t200\t{c[199]}\t{'A' if c[199] != 'A' else 'C'}\n")
    result = score_variants(run, path, table=table)
    assert result.tasks == ["0", "1", "2"] and result.ref_score.shape == (1, 3)
    header = write_scores(tmp_path / "s.tsv", result).read_text().splitlines()[0].split("\t")
    assert header[5:] == [f"{n}_{t}" for t in "012" for n in ("ref_score", "alt_score", "delta")]
    only = score_variants(run, path, table=table, target=1)
    np.testing.assert_allclose(only.delta[:, 0], result.delta[:, 1])


def test_a_run_that_is_not_a_dna_model_is_refused(tmp_path, genome):
    from seqcnn.files import atomic_write_json
    from seqcnn.interpret.variants import score_variants
    from seqcnn.models.network import build_model
    from seqcnn.models.spec import ModelSpec
    from seqcnn.runs.folder import save_model

    spec = [
        {"Conv2D": {"filters": 2, "kernel_size": 3}},
        {"Flatten": {}},
        {"Dense": {"units": 2, "activation": "softmax"}},
    ]
    run = tmp_path / "img"
    run.mkdir()
    save_model(run, build_model(ModelSpec.from_obj(spec), (1, 8, 8)))
    atomic_write_json(run / "config.json", {})
    table = tmp_path / "v.tsv"
    table.write_text("chr1\t200\tA\tC\n")
    with pytest.raises(InputError, match=r"the model takes input of shape \(1, 8, 8\); variants need a DNA model"):
        score_variants(run, genome[0], table=table)
