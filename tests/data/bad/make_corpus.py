"""Write the corpus of bad inputs (``tests/data/bad/``) and its manifest ``cases.tsv``.

Run from anywhere: ``python tests/data/bad/make_corpus.py``. The files are committed; this
script says how each was made. Each manifest row: the case (a file or folder), the seqcnn
command that reads it (run in a copy of this folder; ``{out}`` is a fresh output path), and a
regular expression the one-line error must match. A command of ``read_meme`` means the MEME
reader is called directly (no CLI verb reads a MEME file before heavy work; see
docs/reliability.md).
"""

from __future__ import annotations

import gzip
import shutil
import struct
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
RNG = np.random.default_rng(8)
TRAIN = "train {file} --epochs 1 --quiet --out {out}"
PREDICT = "predict {file} good.fa -o {out}"
SUMMARY = "summary {file} --length 50"
PRIMER_SPEC = ('{"name": "primer", "layers": [{"Conv1D": {"filters": 32, "kernel_size": 12, "activation": "relu"}}, '
               '{"MaxPooling1D": {"pool_size": 4}}, {"Flatten": {}}, {"Dense": {"units": 16, "activation": "relu"}}, '
               '{"Dense": {"units": 2, "activation": "softmax"}}]}')

CASES: list[tuple[str, str, str]] = []


def dna(n: int, length: int = 20) -> list[str]:
    return ["".join("ACGT"[i] for i in row) for row in RNG.integers(0, 4, size=(n, length))]


def case(name: str, content: bytes | str | None, command: str, pattern: str) -> None:
    path = HERE / name
    if content is not None:
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    CASES.append((name, command, pattern))


def fasta(labels, seqs=None, ids=None) -> str:
    seqs = seqs or dna(len(labels))
    ids = ids or [f"s{i}" for i in range(len(labels))]
    return "".join(f">{i} label={y}\n{s}\n" for i, s, y in zip(ids, seqs, labels))


def idx(array: np.ndarray, code: int = 0x08) -> bytes:
    return struct.pack(f">BBBB{array.ndim}I", 0, 0, code, array.ndim, *array.shape) + array.astype(np.uint8).tobytes()


def idx_folder(name: str, images: bytes, labels: bytes, pattern: str) -> None:
    folder = HERE / name
    folder.mkdir(exist_ok=True)
    good_images, good_labels = idx(RNG.integers(0, 255, (4, 4, 4))), idx(np.array([0, 1, 0, 1]))
    for fname, data in (("train-images-idx3-ubyte", images), ("train-labels-idx1-ubyte", labels),
                        ("t10k-images-idx3-ubyte", good_images), ("t10k-labels-idx1-ubyte", good_labels)):
        (folder / fname).write_bytes(data)
    case(name, None, "train --dataset fashion-mnist --data-dir {file} --epochs 1 --quiet --out {out}", pattern)


def run_folder(name: str, files: dict[str, bytes | str], pattern: str, command: str = PREDICT) -> None:
    folder = HERE / name
    folder.mkdir(exist_ok=True)
    for fname, data in files.items():
        (folder / fname).write_bytes(data.encode() if isinstance(data, str) else data)
    case(name, None, command, pattern)


def make_valid_helpers() -> None:
    """Good files the bad cases are read with."""
    labels = [0, 1] * 10
    (HERE / "good.fa").write_text(fasta(labels, dna(20, 50)))
    (HERE / "good_lines.txt").write_text("\n".join(dna(6)) + "\n")
    chrom = "".join(dna(1, 3000))
    (HERE / "genome.fa").write_text(">chr1\n" + "\n".join(chrom[i : i + 60] for i in range(0, 3000, 60)) + "\n")


def sequences() -> None:
    case("fasta_empty.fa", "", TRAIN, r"fasta_empty\.fa: no FASTA records found")
    case(
        "fasta_binary.fa",
        b">a label=1\nAC\x00\x01\x02GT\n",
        TRAIN,
        r"fasta_binary\.fa, line 2: binary data \(NUL byte\), expected a text file",
    )
    case(
        "fasta_header_without_sequence.fa",
        ">a label=1\n>b label=0\nACGT\n",
        TRAIN,
        r'fasta_header_without_sequence\.fa, line 1 \(record "a"\): header without a sequence',
    )
    case(
        "fasta_duplicate_ids.fa",
        fasta([0, 1, 0], ids=["x", "y", "x"]),
        TRAIN,
        r'fasta_duplicate_ids\.fa, line 5 \(record "x"\): duplicate id, first seen on line 1',
    )
    case(
        "fasta_invalid_character.fa",
        fasta([0, 1], ["ACGTACGT", "ACGXACGT"]),
        TRAIN,
        r'fasta_invalid_character\.fa \(record "s1"\): invalid character \'X\' at position 4; expected A, C, G, T',
    )
    case(
        "fasta_mixed_lengths.fa",
        fasta([0, 1, 0], ["ACGTACGT", "ACGTAC", "ACGTACGT"]),
        TRAIN,
        r'fasta_mixed_lengths\.fa \(record "s1"\): sequence has length 6, expected 8',
    )
    case(
        "fasta_text_before_header.fa",
        "ACGT\n>a label=1\nACGT\n",
        TRAIN,
        r"fasta_text_before_header\.fa, line 1: sequence data before the first '>' header",
    )
    case(
        "fasta_some_labels.fa",
        ">a label=1\nACGT\n>b\nACGT\n",
        TRAIN,
        r'fasta_some_labels\.fa, line 3 \(record "b"\): no value for target \'label\'',
    )
    case(
        "fasta_nan_label.fa",
        fasta([0, "nan"]),
        TRAIN,
        r"fasta_nan_label\.fa, line 3 \(record \"s1\"\): no value for target 'label'",
    )
    case("fasta_text_label.fa", fasta([0, "yes"]), TRAIN,
         r"fasta_text_label\.fa, line 1 \(record \"s0\"\): class '0' of target 'label' has one member")
    case(
        "fasta_single_class.fa",
        fasta([0, 0, 0, 0]),
        TRAIN,
        r"fasta_single_class\.fa: all 4 values of target 'label' are '0'; classification needs at least 2 classes",
    )
    case(
        "fasta_negative_label.fa",
        fasta([0, 1, -1]),
        TRAIN,
        r'fasta_negative_label\.fa, line 5 \(record "s2"\): class \'-1\' of target \'label\' has one member',
    )
    case(
        "fasta_not_utf8.fa",
        b">a label=1 caf\xe9\nACGT\n>b label=0\nACGT\n",
        TRAIN,
        r"fasta_not_utf8\.fa, line 1: not valid UTF-8 text",
    )
    case(
        "fasta_truncated.fa.gz",
        gzip.compress(fasta([0, 1] * 50).encode(), mtime=0)[:60],
        TRAIN,
        r"fasta_truncated\.fa\.gz: corrupt or truncated gzip file",
    )
    case("labels_count.txt", "0\n1\n0\n", "train good_lines.txt --labels {file} --epochs 1 --quiet --out {out}",
         r"labels_count\.txt: 3 labels, but good_lines\.txt has 6 sequences; expected one label per sequence")
    case(
        "labels_text.txt",
        "0\n1\nzero\n1\n0\n1\n",
        "train good_lines.txt --labels {file} --epochs 1 --quiet --out {out}",
        r"good_lines\.txt, line 3 \(record \"line3\"\): class 'zero' of target 'label' has one member",
    )


def tables() -> None:
    rows = dna(4)
    case(
        "table_no_sequence_column.csv",
        "id,dna,label\n" + "".join(f"r{i},{s},{i % 2}\n" for i, s in enumerate(rows)),
        TRAIN,
        r"table_no_sequence_column\.csv, line 1: no sequence column in header .*; "
        r"expected one of \['sequence', 'seq'\]",
    )
    case(
        "table_ragged.tsv",
        "sequence\tlabel\n" + f"{rows[0]}\t0\n{rows[1]}\t1\textra\n",
        TRAIN,
        r"table_ragged\.tsv, line 3: 3 fields, expected 2 as in the header",
    )
    case("table_header_only.csv", "sequence,label\n", TRAIN, r"table_header_only\.csv: table has a header but no rows")
    case(
        "table_bad_label.csv",
        "sequence,label\n" + f"{rows[0]},0\n{rows[1]},one\n",
        TRAIN,
        r"table_bad_label\.csv, line 2 \(record \"row2\"\): class '0' of target 'label' has one member",
    )
    case(
        "table_empty.tsv",
        "\n\n",
        TRAIN,
        r"table_empty\.tsv: empty table, expected a header row naming a 'sequence' column",
    )
    header = "FoldID\tEventID\tseq\tBound\n"
    body = "".join(f"A\tseq_{i}\t{s}\t{i % 2}\n" for i, s in enumerate(dna(6, 30)))
    case(
        "deepbind_truncated_AC.seq.gz",
        gzip.compress((header + body * 20).encode(), mtime=0)[:-30],
        TRAIN,
        r"deepbind_truncated_AC\.seq\.gz: corrupt or truncated gzip file",
    )
    case(
        "deepbind_bad_bound_AC.seq.gz",
        gzip.compress((header + body + "A\tseq_x\tACGT\tbound\n").encode(), mtime=0),
        TRAIN,
        r'deepbind_bad_bound_AC\.seq\.gz \(record "seq_x"\): sequence has length 4, expected 30',
    )
    case(
        "deepbind_no_header_AC.seq.gz",
        gzip.compress(body.encode(), mtime=0),
        TRAIN,
        r"deepbind_no_header_AC\.seq\.gz, line 1: no sequence column",
    )
    case(
        "deepbind_binary_AC.seq.gz",
        gzip.compress(bytes(range(256)) * 4, mtime=0),
        TRAIN,
        r"deepbind_binary_AC\.seq\.gz, line 1: binary data",
    )
    case(
        "deepbind_duplicate_ids_AC.seq.gz",
        gzip.compress((header + body + body).encode(), mtime=0),
        TRAIN,
        r'deepbind_duplicate_ids_AC\.seq\.gz, line 8 \(record "seq_0"\): duplicate id',
    )


def beds() -> None:
    bed = "train {file} --genome genome.fa --epochs 1 --quiet --out {out}"
    case(
        "bed_two_columns.bed",
        "chr1\t100\t200\nchr1\t300\n",
        bed,
        r"bed_two_columns\.bed, line 2: 2 columns, expected at least 3",
    )
    case(
        "bed_not_numbers.bed",
        "chr1\t100\t200\nchr1\tabc\t400\n",
        bed,
        r"bed_not_numbers\.bed, line 2: start 'abc' and end '400' must be whole numbers",
    )
    case(
        "bed_empty_interval.bed",
        "chr1\t500\t500\n",
        bed,
        r"bed_empty_interval\.bed, line 1: interval chr1:500-500 is empty or negative",
    )
    case(
        "bed_unknown_chromosome.bed",
        "chr1\t100\t200\nchr7\t100\t200\n",
        bed,
        r"bed_unknown_chromosome\.bed, line 2: chromosome 'chr7' is not in the genome",
    )
    case(
        "bed_outside_chromosome.bed",
        "chr1\t100\t200\nchr1\t2950\t3100\n",
        bed,
        r"bed_outside_chromosome\.bed, line 2: interval chr1:2950-3100 lies outside the chromosome",
    )
    case("bed_only_comments.bed", "# peaks\ntrack name=x\n", bed, r"bed_only_comments\.bed: no BED records found")


def images() -> None:
    good_images, good_labels = idx(RNG.integers(0, 255, (4, 4, 4))), idx(np.array([0, 1, 0, 1]))
    idx_folder(
        "idx_wrong_magic",
        b"\x08\x03\x00\x00" + good_images[4:],
        good_labels,
        r"idx_wrong_magic/train-images-idx3-ubyte: not an IDX file; expected the magic number",
    )
    idx_folder(
        "idx_truncated",
        good_images[:-10],
        good_labels,
        r"idx_truncated/train-images-idx3-ubyte: IDX header says shape \(4, 4, 4\)",
    )
    idx_folder(
        "idx_unknown_type",
        good_images[:2] + b"\x07" + good_images[3:],
        good_labels,
        r"idx_unknown_type/train-images-idx3-ubyte: unknown IDX type code 0x07",
    )
    idx_folder(
        "idx_label_count",
        good_images,
        idx(np.array([0, 1, 1])),
        r"idx_label_count/train-labels-idx1-ubyte: \(3,\) labels for 4 images",
    )
    np.savez(HERE / "images_no_labels.npz", x=RNG.random((4, 8, 8)).astype(np.float32))
    case("images_no_labels.npz", None, TRAIN, r"images_no_labels\.npz: no labels array; expected one of the keys")
    np.savez(HERE / "images_out_of_range.npz", x=RNG.random((4, 8, 8)).astype(np.float32) * 5, y=np.array([0, 1, 0, 1]))
    case("images_out_of_range.npz", None, TRAIN, r"images_out_of_range\.npz \[x\]: float images must lie in \[0, 1\]")
    case(
        "images_not_a_zip.npz",
        b"PK\x03\x04 this is not a zip archive",
        TRAIN,
        r"images_not_a_zip\.npz: not a readable \.npz file",
    )
    np.savez(HERE / "images_flat_rows.npz", X=np.zeros((4, 64), dtype=np.uint8), Y=np.eye(2)[[0, 1, 0, 1]])
    case(
        "images_flat_rows.npz",
        None,
        TRAIN,
        r"images_flat_rows\.npz \[X\]: images are flat rows of 64 values .*--input-shape 8,8,1",
    )
    np.savez(
        HERE / "images_bad_one_hot.npz",
        x=np.zeros((4, 8, 8), dtype=np.uint8),
        y=np.array([[1, 0], [1, 1], [0, 1], [1, 0]]),
    )
    case(
        "images_bad_one_hot.npz",
        None,
        TRAIN,
        r"images_bad_one_hot\.npz \[y\]: labels have shape \(4, 2\) but row 1 is not one-hot",
    )
    from PIL import Image

    folder = HERE / "images_mixed_sizes"
    for cls, size in (("cat", (8, 8)), ("dog", (9, 8))):
        (folder / cls).mkdir(parents=True, exist_ok=True)
        Image.fromarray(RNG.integers(0, 255, size[::-1], dtype=np.uint8)).save(folder / cls / "a.png")
    case("images_mixed_sizes", None, TRAIN, r"images_mixed_sizes/dog/a\.png: image is 9 x 8 pixels; expected 8 x 8")
    folder = HERE / "images_corrupt_png"
    for cls in ("cat", "dog"):
        (folder / cls).mkdir(parents=True, exist_ok=True)
        Image.fromarray(RNG.integers(0, 255, (8, 8), dtype=np.uint8)).save(folder / cls / "a.png")
    (folder / "dog" / "b.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    case("images_corrupt_png", None, TRAIN, r"images_corrupt_png/dog/b\.png: not a readable image")
    case(
        "image_not_an_image.jpg",
        b"\xff\xd8\xff\xe0 half a jpeg",
        "kernels --out {out} --image {file}",
        r"image_not_an_image\.jpg: not a readable image",
    )


def specs() -> None:
    case(
        "spec_invalid_json.json",
        '{"layers": [{"Conv1D": {"filters": 8,}}]}',
        SUMMARY,
        r"spec_invalid_json\.json, line 1, column \d+: invalid JSON",
    )
    case(
        "spec_unknown_key.json",
        '{"layers": [{"Flatten": {}}], "optimizer": "adam"}',
        SUMMARY,
        r"spec_unknown_key\.json: unknown key\(s\) \['optimizer'\] in spec",
    )
    case(
        "spec_unknown_layer.json",
        '[{"Conv3D": {"filters": 8, "kernel_size": 3}}]',
        SUMMARY,
        r"spec_unknown_layer\.json: layer 0: unknown layer type 'Conv3D'; valid types:",
    )
    case(
        "spec_unknown_argument.json",
        '[{"Conv1D": {"filters": 8, "kernel_size": 3, "kernel": 3}}]',
        SUMMARY,
        r"spec_unknown_argument\.json: layer 0 \(Conv1D\): unknown argument 'kernel'",
    )
    case(
        "spec_absurd_filters.json",
        '[{"Conv1D": {"filters": 1000000000000, "kernel_size": 3}}]',
        SUMMARY,
        r"spec_absurd_filters\.json: layer 0 \(Conv1D\): .*Expected at most 1,048,576",
    )
    case(
        "spec_kernel_longer_than_input.json",
        '[{"Conv1D": {"filters": 8, "kernel_size": 80}}, {"Flatten": {}}, {"Dense": {"units": 2}}]',
        SUMMARY,
        r"layer 0 \(conv1d: Conv1D\) does not fit its input",
    )
    case("spec_empty.json", "[]", SUMMARY, r"spec_empty\.json: a spec must be a non-empty list of layers")
    case(
        "spec_string_kernel.json",
        '[{"Conv1D": {"filters": 8, "kernel_size": "12"}}]',
        SUMMARY,
        r"spec_string_kernel\.json: layer 0 \(Conv1D\): .*kernel_size",
    )
    case(
        "spec_meta_not_object.json",
        '{"layers": [{"Flatten": {}}], "meta": "x"}',
        SUMMARY,
        r"spec_meta_not_object\.json: 'meta' must be an object",
    )


def runs() -> None:
    model_json = '{"input_shape": [4, 50], "spec": ' + PRIMER_SPEC + "}"
    import torch
    from safetensors.torch import save

    from seqcnn.models.network import build_model
    from seqcnn.models.spec import ModelSpec

    torch.manual_seed(0)
    net = build_model(ModelSpec.from_obj(__import__("json").loads(PRIMER_SPEC)), (4, 50))
    good = save({k: v.contiguous() for k, v in net.state_dict().items()})
    misfit = dict(net.state_dict())
    misfit["layers.0.weight"] = torch.zeros(16, 4, 12)
    run_folder(
        "run_missing_weights",
        {"model.json": model_json},
        r"run_missing_weights/model\.safetensors: weights file missing",
    )
    run_folder(
        "run_corrupt_weights",
        {"model.json": model_json, "model.safetensors": bytes(RNG.integers(0, 255, 300, dtype=np.uint8))},
        r"run_corrupt_weights/model\.safetensors: not a readable safetensors file",
    )
    run_folder(
        "run_truncated_weights",
        {"model.json": model_json, "model.safetensors": good[: len(good) // 2]},
        r"run_truncated_weights/model\.safetensors: not a readable safetensors file",
    )
    run_folder(
        "run_misfit_weights",
        {"model.json": model_json, "model.safetensors": save({k: v.contiguous() for k, v in misfit.items()})},
        r"run_misfit_weights/model\.safetensors: tensor 'layers\.0\.weight' has shape \(16, 4, 12\), the spec needs "
        r"\(32, 4, 12\)",
    )
    run_folder(
        "run_missing_model_json",
        {"model.safetensors": good},
        r"run_missing_model_json/model\.json: missing; is run_missing_model_json a seqcnn run folder\?",
    )
    run_folder(
        "run_corrupt_model_json",
        {"model.json": model_json[:40], "model.safetensors": good},
        r"run_corrupt_model_json/model\.json: corrupt JSON",
    )
    run_folder(
        "run_pickle_weights",
        {"model.json": model_json, "model.pt": b"\x80\x04cos\nsystem\n."},
        r"run_pickle_weights/model\.safetensors: weights file missing; found model\.pt, but seqcnn does not load "
        r"pickle files",
    )
    run_folder(
        "run_no_config",
        {"model.json": model_json, "model.safetensors": good},
        r"run_no_config/config\.json: missing",
        "train --resume {file} --quiet",
    )
    import hashlib

    digest = hashlib.sha256((HERE / "good.fa").read_bytes()).hexdigest()
    config = (
        '{"arguments": {"data": "good.fa", "model": "primer", "epochs": 1, "seed": 0}, '
        '"data": {"sha256": {"good.fa": "' + digest + '"}}}'
    )
    run_folder(
        "run_corrupt_checkpoint",
        {"config.json": config, "checkpoint.safetensors": good[:100]},
        r"run_corrupt_checkpoint/checkpoint\.safetensors: not a seqcnn training state .*; delete it to restart the "
        r"run from its first epoch",
        "train --resume {file} --quiet",
    )
    case("init_from.pth", b"\x80\x04cos\nsystem\n.", "train good.fa --init-from {file} --epochs 1 --quiet --out {out}",
         r"init_from\.pth: refusing to read a pickle file: loading it can run any code it contains")


def motifs() -> None:
    head = "MEME version 4\n\nALPHABET= ACGT\n\n"
    case("meme_no_motifs.meme", head, "read_meme", r"meme_no_motifs\.meme: no motifs found")
    case(
        "meme_short_matrix.meme",
        head + "MOTIF m1\nletter-probability matrix: alength= 4 w= 3\n0.25 0.25 0.25 0.25\n0.1 0.2 0.3 0.4\n",
        "read_meme",
        r"meme_short_matrix\.meme, line 5: motif m1 has 2 matrix rows, expected w=3",
    )
    case(
        "meme_bad_row.meme",
        head + "MOTIF m1\nletter-probability matrix: alength= 4 w= 2\n0.25 0.25 0.25\n0.1 0.2 0.3 0.4\n",
        "read_meme",
        r"meme_bad_row\.meme, line 7: motif m1: expected 4 non-negative probabilities",
    )
    case(
        "meme_protein.meme",
        "MEME version 4\n\nALPHABET= ACDEFGHIKLMNPQRSTVWY\n",
        "read_meme",
        r"meme_protein\.meme, line 3: alphabet 'ACDEFGHIKLMNPQRSTVWY' is not supported",
    )


def variant_files() -> None:
    """VCFs and variant tables for ``seqcnn variants`` on genome.fa (chr1, 3,000 bp) with a 50 bp DNA model."""
    import json

    import pysam
    import torch
    from safetensors.torch import save

    from seqcnn.models.network import build_model
    from seqcnn.models.spec import ModelSpec

    torch.manual_seed(1)
    net = build_model(ModelSpec.from_obj(json.loads(PRIMER_SPEC)), (4, 50))
    run_folder("variants_run", {"model.json": '{"input_shape": [4, 50], "spec": ' + PRIMER_SPEC + "}",
                                "model.safetensors": save({k: v.contiguous() for k, v in net.state_dict().items()}),
                                "config.json": '{"predict": {"rc_average": true}}'}, "", command="")
    CASES.pop()  # a helper for the cases below, not a case
    chrom = "".join(line for line in (HERE / "genome.fa").read_text().splitlines()[1:])
    head = "##fileformat=VCFv4.2\n##contig=<ID=chr1,length=3000>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"

    def rec(pos: int, alt: str = "", ref: str | None = None, chrom_name: str = "chr1") -> str:
        ref = ref or chrom[pos - 1]
        alt = alt or "ACGT"[("ACGT".index(ref) + 1) % 4]
        return f"{chrom_name}\t{pos}\t.\t{ref}\t{alt}\t.\t.\t.\n"

    command = "variants variants_run --vcf {file} --genome genome.fa -o {out}"
    case(
        "vcf_no_header.vcf",
        rec(1500),
        command,
        r"vcf_no_header\.vcf: not a VCF file; expected '##fileformat=VCF\.\.\.' header lines",
    )
    case("vcf_bad_position.vcf", head + rec(1500) + "chr1\tabc\t.\tA\tG\t.\t.\t.\n", command,
         r"vcf_bad_position\.vcf, line 5: cannot parse the VCF record .*whole-number POS")
    case(
        "vcf_missing_contig.vcf",
        head.replace("#CHROM", "##contig=<ID=chr7>\n#CHROM") + rec(1500) + rec(100, "A", "C", "chr7"),
        command,
        r"vcf_missing_contig\.vcf: contig 'chr7' is not in the genome genome\.fa \(1 contig\(s\) missing; the genome "
        r"has chr1\)",
    )
    wrong = "ACGT"[("ACGT".index(chrom[1499]) + 2) % 4]
    case(
        "vcf_ref_mismatch.vcf",
        head + rec(1000) + rec(1500, "A" if wrong != "A" else "C", wrong),
        command + " --strict-ref",
        rf"vcf_ref_mismatch\.vcf, line 5: chr1:1500 {wrong}>.: REF {wrong} does not match the genome genome\.fa, "
        rf"which has {chrom[1499]}",
    )
    case(
        "vcf_off_chromosome.vcf",
        head + rec(1000) + rec(2990),
        command + " --strict",
        r"vcf_off_chromosome\.vcf, line 5: chr1:2990 .>.: the 50 bp window chr1:2965-3014 runs off the chromosome "
        r"\(length 3000\)",
    )
    case(
        "vcf_nothing_scorable.vcf",
        head + rec(1000, "<DEL>") + rec(1200, "*"),
        command,
        r"vcf_nothing_scorable\.vcf: no variant could be scored; skipped 1 symbolic ALT \(first: "
        r"vcf_nothing_scorable\.vcf, line 4",
    )
    (HERE / "plain.vcf").write_text(head + "".join(rec(p) for p in range(200, 2800, 50)))
    pysam.tabix_compress(str(HERE / "plain.vcf"), str(HERE / "full.vcf.gz"), force=True)
    (HERE / "plain.vcf").unlink()
    case("vcf_truncated.vcf.gz", (HERE / "full.vcf.gz").read_bytes()[:300], command, r"vcf_truncated\.vcf\.gz")
    (HERE / "full.vcf.gz").unlink()
    table = "variants variants_run --variants {file} --genome genome.fa -o {out}"
    case("variants_too_few_fields.tsv", "chrom\tpos\tref\talt\n" + "chr1\t100\tA\n", table,
         r"variants_too_few_fields\.tsv, line 2: 3 fields, expected chrom pos ref alt \[id\]")
    case("variants_bad_position.tsv", f"chr1\t100\t{chrom[99]}\tA\nchr1\t-5\tA\tG\n", table,
         r"variants_bad_position\.tsv, line 2: position '-5' is not a whole number >= 1")
    # accepted, not errors (tests/test_variants.py): an unsorted VCF and one with alleles that are skipped and counted
    (HERE / "vcf_unsorted.vcf").write_text(head + rec(2000) + rec(500) + rec(1500))
    (HERE / "vcf_skipped_alleles.vcf").write_text(
        head
        + rec(1000, "<DEL>")
        + rec(1100, "*")
        + rec(1200, ".")
        + rec(1300, "A,C,G,T".replace(chrom[1299], "<INS>"))
        + rec(1400, "N", "R")
    )


def target_case(name: str, content: str, command: str, pattern: str) -> None:
    (HERE / name).write_text(content)
    CASES.append((name, command, pattern))


def targets() -> None:
    """Target and task errors (no random numbers drawn: the other cases' files stay the same)."""
    seqs = ["ACGTACGTAC", "TTGACCATGA", "GGGCCCAAAT", "CATCATCATG", "AGAGAGTCTC", "TTTTGGGGCA"]
    splice = "Class,Donor,Sequence\n" + "".join(
        f"{c},d{i % 2},{s}\n" for i, (c, s) in enumerate(zip(["EI", "IE", "N"] * 2, seqs))
    )
    target_case("table_unknown_target.csv", splice, "train {file} --target Label --epochs 1 --quiet --out {out}",
                r"table_unknown_target\.csv: unknown target column 'Label'; the columns are: 'Class', 'Donor'")
    target_case("table_ambiguous_target.csv", splice, TRAIN,
                r"table_ambiguous_target\.csv: 2 columns could be labels: 'Class', 'Donor'; pass --target")
    one = "sequence,label\n" + "".join(f"{s},{c}\n" for s, c in zip(seqs, ["a", "a", "b", "b", "a", "c"]))
    target_case(
        "table_one_member_class.csv",
        one,
        TRAIN,
        r'table_one_member_class\.csv, line 7 \(record "row7"\): class \'c\' of target \'label\' has one member',
    )
    sparse = "sequence,a,b\n" + "".join(f"{s},{i % 2},\n" for i, s in enumerate(seqs))
    target_case("table_all_missing_task.csv", sparse, "train {file} --target a,b --epochs 1 --quiet --out {out}",
                r"table_all_missing_task\.csv: target 'b' has no value in any of the 6 records")
    values = ["0.5", "1.25", "inf", "2.0", "3.5", "0.75"]
    target_case(
        "table_nonfinite_target.csv",
        "sequence,expr\n" + "".join(f"{s},{v}\n" for s, v in zip(seqs, values)),
        TRAIN,
        r'table_nonfinite_target\.csv, line 4 \(record "row4"\): target \'expr\' is \'inf\', not a finite number',
    )
    target_case("labels_columns.tsv", "a\tb\n1\t0\n0\n1\t1\n0\t0\n1\t1\n0\t1\n",
                "train good_lines.txt --labels {file} --epochs 1 --quiet --out {out}",
                r"labels_columns\.tsv, line 3: 1 columns, expected 2 as on line 1")
    values = ["0.5", "1.25", "2.5", "2.0", "3.5", "0.75"]
    measured = "sequence,expr\n" + "".join(f"{s},{v}\n" for s, v in zip(seqs, values))
    (HERE / "good_regression.csv").write_text(measured)
    target_case("spec_head_mismatch.json", PRIMER_SPEC.replace("kernel_size\": 12", "kernel_size\": 3"),
                "train good_regression.csv --model {file} --epochs 1 --quiet --out {out}",
                r"spec_head_mismatch\.json: the spec ends in 2 softmax outputs, but the task \(regression on expr\) "
                r"needs 1 linear output")


def write_manifest(name: str, cases: list[tuple[str, str, str]]) -> None:
    lines = ["case\tcommand\terror"] + ["\t".join(row) for row in cases]
    (HERE / name).write_text("\n".join(lines) + "\n")


def main() -> None:
    for path in HERE.iterdir():
        if path.name not in ("make_corpus.py", "README.md"):
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    make_valid_helpers()
    for make in (sequences, tables, beds, images, specs, runs, motifs, variant_files, targets):
        make()
    write_manifest("cases.tsv", CASES)
    print(f"{len(CASES)} cases in {HERE / 'cases.tsv'}")


if __name__ == "__main__":
    main()
