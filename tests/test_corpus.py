"""The corpus of bad inputs (tests/data/bad/, made by its make_corpus.py): every case through the CLI.

Each case must end with exit status 2 and one line on stderr that names the file (and the
line or record where there is one) and says what was expected, matching the regular
expression of ``cases.tsv``; never a traceback. Valid files with Windows line endings or a
UTF-8 byte-order mark are accepted.
"""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest

from seqcnn.errors import SeqcnnError

CORPUS = Path(__file__).parent / "data" / "bad"


def read_cases() -> list[tuple[str, str, str]]:
    lines = (CORPUS / "cases.tsv").read_text().splitlines()[1:]
    return [tuple(line.split("\t")) for line in lines if line.strip()]


CASES = read_cases()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """A copy of the corpus (readers such as pyfaidx write index files beside their input)."""
    copy = tmp_path_factory.mktemp("corpus") / "bad"
    shutil.copytree(CORPUS, copy)
    return copy


def test_the_corpus_covers_every_reader():
    names = [name for name, _, _ in CASES]
    assert len(names) >= 30 and len(set(names)) == len(names)
    prefixes = {name.split("_")[0] for name in names}
    assert {"fasta", "table", "deepbind", "labels", "bed", "idx", "images", "meme", "spec", "run"} <= prefixes
    assert all((CORPUS / name).exists() for name in names)


@pytest.mark.parametrize(("name", "command", "pattern"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_gives_one_line_and_status_2(name, command, pattern, corpus, cli, monkeypatch, tmp_path):
    monkeypatch.chdir(corpus)
    monkeypatch.setenv("SEQCNN_FASHION_MNIST_URL", "file:///nonexistent/")  # never download
    if command == "read_meme":  # a reader without a cheap CLI path (see docs/reliability.md)
        from seqcnn.io.meme import read_meme

        with pytest.raises(SeqcnnError) as info:
            read_meme(name)
        assert re.search(pattern, str(info.value)), str(info.value)
        return
    args = [a.format(file=name, out=tmp_path / "out") for a in shlex.split(command)]
    code, _, err = cli(*args)
    lines = err.strip().splitlines()
    assert code == 2, f"exit {code}: {err}"
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("seqcnn: error: ")
    assert re.search(pattern, lines[0]), lines[0]
    assert not (tmp_path / "out" / "model.safetensors").exists()


def crlf_bom(text: str) -> bytes:
    return b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode()


@pytest.mark.parametrize("name", ["good.fa", "table.csv", "lines.txt", "spec.json", "motifs.meme", "peaks.bed"])
def test_windows_line_endings_and_a_byte_order_mark_are_accepted(name, tmp_path):
    from seqcnn.io import read_sequences
    from seqcnn.io.bed import read_bed
    from seqcnn.io.meme import read_meme
    from seqcnn.models.spec import ModelSpec

    good = (CORPUS / "good.fa").read_text()
    seqs = [line for line in good.splitlines() if not line.startswith(">")]
    texts = {
        "good.fa": good,
        "table.csv": "id,sequence,label\n" + "".join(f"r{i},{s},{i % 2}\n" for i, s in enumerate(seqs)),
        "lines.txt": "\n".join(seqs) + "\n",
        "spec.json": '{"layers": [{"Conv1D": {"filters": 4, "kernel_size": 5}}, {"Flatten": {}}, '
        '{"Dense": {"units": 2}}]}\n',
        "motifs.meme": "MEME version 4\n\nALPHABET= ACGT\n\nMOTIF m1\nletter-probability matrix: alength= 4 w= 2\n0.7 "
                       "0.1 0.1 0.1\n0.1 0.1 0.1 0.7\n",
        "peaks.bed": "chr1\t100\t200\nchr1\t300\t420\n",
    }
    path = tmp_path / name
    path.write_bytes(crlf_bom(texts[name]))
    if name == "spec.json":
        assert [layer.type for layer in ModelSpec.load(path).layers] == ["Conv1D", "Flatten", "Dense"]
    elif name == "motifs.meme":
        (motif,) = read_meme(path)
        assert motif.name == "m1" and motif.pwm.shape == (4, 2) and motif.pwm[0, 0] == pytest.approx(0.7)
    elif name == "peaks.bed":
        assert [(p.chrom, p.start, p.end) for p in read_bed(path)] == [("chr1", 100, 200), ("chr1", 300, 420)]
    else:
        records = read_sequences(path)
        assert records.seqs == seqs  # no "\r" and no BOM left in ids or bases
        assert records.ids[0] in ("s0", "r0", "line1") and "\ufeff" not in records.ids[0]
        if name != "lines.txt":
            assert records.labels.tolist() == [i % 2 for i in range(len(seqs))]
