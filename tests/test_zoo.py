"""The zoo: exact parameter counts and shapes, families, summaries and listings on the command line."""

from __future__ import annotations

import re

import pytest
import torch
from torch import nn

from seqcnn.errors import SpecError
from seqcnn.models import zoo
from seqcnn.models.spec import ModelSpec
from seqcnn.models.summary import summary

ZENG = ["zeng2016-1layer", "zeng2016-1layer_1motif", "zeng2016-1layer_64motif", "zeng2016-1layer_128motif",
        "zeng2016-1layer_local_win3", "zeng2016-1layer_local_win9", "zeng2016-2layer", "zeng2016-2layer_local_win3",
        "zeng2016-3layer"]


def _total(spec: ModelSpec, shape: tuple[int, ...]) -> int:
    return sum(i.params for i in spec.analyse(shape))


@pytest.mark.parametrize("name, shape, classes, total", [
    ("fashion-cnn", (1, 28, 28), 10, 1_413_834),
    ("primer", (4, 50), 2, 6_226),
    ("chipseq", (4, 101), 2, 13_058),  # 256 x 12 conv + output: seqcnn train's ChIP-seq default
    ("fashion-dense", (1, 28, 28), 10, 266_610),
    ("vgg16", (3, 224, 224), 1000, 138_357_544),
    ("alexnet", (3, 224, 224), 1000, 61_100_840),
])
def test_exact_parameter_counts(name, shape, classes, total):
    spec = zoo.get(name, classes=classes, input_shape=shape)
    assert _total(spec, shape) == total
    assert f"Total params: {total:,}" in summary(spec, shape)


def test_totals_carry_the_float32_size_as_keras_3_prints_it():
    assert "Total params: 6,226 (24.32 KB)" in summary(zoo.get("primer"), (4, 50))
    text = summary(zoo.get("vgg16"), (3, 224, 224))
    assert "Total params: 138,357,544 (527.79 MB)" in text and "Non-trainable params: 0 (0.00 B)" in text


def test_fashion_cnn_output_shapes_channels_last():
    text = summary(zoo.get("fashion-cnn"), (1, 28, 28))
    shapes = re.findall(r"\(None, ([\d, ]+)\)", text)
    assert [tuple(int(d) for d in s.split(", ")) for s in shapes] == [
        (28, 28, 64), (14, 14, 64), (14, 14, 128), (14, 14, 128), (7, 7, 128), (7, 7, 256), (7, 7, 256),
        (3, 3, 256), (2304,), (128,), (128,), (64,), (64,), (10,)]


def test_vgg16_has_keras_application_layer_names():
    names = [layer.name for layer in zoo.get("vgg16").layers]
    assert names[:3] == ["block1_conv1", "block1_conv2", "block1_pool"]
    assert names[-4:] == ["flatten", "fc1", "fc2", "predictions"]


def _torchvision_alexnet(classes: int) -> nn.Sequential:
    """torchvision's AlexNet written out independently, on the meta device (no memory used)."""
    with torch.device("meta"):
        return nn.Sequential(
            nn.Conv2d(3, 64, 11, stride=4, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
            nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
            nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(), nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(),
            nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2),
            nn.AdaptiveAvgPool2d((6, 6)), nn.Flatten(),
            nn.Dropout(0.5), nn.Linear(9216, 4096), nn.ReLU(), nn.Dropout(0.5), nn.Linear(4096, 4096), nn.ReLU(),
            nn.Linear(4096, classes),
        )


@pytest.mark.parametrize("size", [224, 416])  # 416 gives a 12x12 map: adaptive pooling does work
def test_alexnet_matches_torchvision_layout(size):
    reference = _torchvision_alexnet(7)
    spec = zoo.get("alexnet", classes=7, input_shape=(3, size, size))
    assert _total(spec, (3, size, size)) == sum(p.numel() for p in reference.parameters())
    x = torch.empty(1, 3, size, size, device="meta")
    feature_map = reference[:13](x).shape[1:]
    pools = [i for i in spec.analyse((3, size, size)) if i.layer.type.endswith("Pooling2D")]
    assert pools[-1].out_shape == tuple(reference[:14](x).shape[1:]) == (256, 6, 6)
    assert pools[2].out_shape == tuple(feature_map)


def test_alexnet_rejects_inputs_that_do_not_pool_to_6x6():
    with pytest.raises(SpecError, match=r"alexnet: input \(3, 256, 256\) gives a 7x7 feature map"):
        zoo.get("alexnet", input_shape=(3, 256, 256))


def test_zeng2016_family_has_the_nine_architectures():
    assert zoo.family("zeng2016") == ZENG
    assert "zeng2016" in zoo.families() and zoo.family("fashion") == ["fashion-dense", "fashion-cnn"]
    with pytest.raises(SpecError, match="unknown model family 'zeng'; valid families: primer, deepbind"):
        zoo.family("zeng")


@pytest.mark.parametrize("name", ZENG)
def test_zeng2016_models_cite_the_paper_and_take_length_and_classes(name):
    entry = zoo.entry(name)
    assert entry.default_input == (4, 101) and entry.family == "zeng2016"
    doc = entry.build.__doc__
    assert "Bioinformatics 32(12):i121-i127" in doc and "we chose" in doc
    spec = zoo.get(name, classes=5, input_shape=(4, 300))
    infos = spec.analyse((4, 300))
    assert infos[-1].out_shape == (5,)
    assert infos[0].out_shape == (spec.layers[0].args["filters"], 277)  # 300 - 24 + 1


def test_zeng2016_variants_change_only_what_their_name_says():
    def layer_types(name):
        return [layer.type for layer in zoo.get(name).layers]

    filters = {n: zoo.get(n).layers[0].args["filters"] for n in ZENG[:4]}
    assert filters == {
        "zeng2016-1layer": 16,
        "zeng2016-1layer_1motif": 1,
        "zeng2016-1layer_64motif": 64,
        "zeng2016-1layer_128motif": 128,
    }
    assert "GlobalMaxPooling1D" in layer_types("zeng2016-1layer")
    for name, window in [("zeng2016-1layer_local_win3", 3), ("zeng2016-1layer_local_win9", 9)]:
        pool = zoo.get(name).layers[1]
        assert pool.type == "MaxPooling1D" and pool.args["pool_size"] == window
        assert "GlobalMaxPooling1D" not in layer_types(name)
    assert [layer_types(n).count("Conv1D") for n in ZENG[6:]] == [2, 2, 3]
    assert "GlobalMaxPooling1D" not in layer_types("zeng2016-2layer_local_win3")


def test_zeng2016_too_short_input_names_the_layer():
    with pytest.raises(SpecError, match=r"layer 4 \(conv1d_2: Conv1D\) does not fit its input \(None, 1, 32\)"):
        zoo.get("zeng2016-3layer").analyse((4, 60))


# --- the command line ----------------------------------------------------------------------

@pytest.mark.parametrize("name", zoo.names())
def test_cli_summary_of_every_zoo_model(cli, name):
    entry = zoo.entry(name)
    spec = zoo.get(name)
    infos = spec.analyse(entry.default_input)
    code, out, err = cli("summary", name)
    assert code == 0, err
    rows = [line for line in out.splitlines() if re.match(r"[a-z]\S* \(\w+\)", line)]  # not the header
    assert [r.split()[0] for r in rows] == [layer.name for layer in spec.layers]
    for row, info in zip(rows, infos):
        assert f" {info.params:,} " in f" {row} "
    assert f"Total params: {sum(i.params for i in infos):,}" in out


def test_cli_summary_options(cli, tmp_path):
    code, out, _ = cli("summary", "fashion-cnn", "--input-shape", "32,32,3", "--channels-first")
    assert code == 0 and "(None, 64, 32, 32)" in out and "(None, 256, 4, 4)" in out
    code, out, _ = cli("summary", "zeng2016-1layer", "--length", "200", "--classes", "3")
    assert code == 0 and "(None, 177, 16)" in out and "(None, 3)" in out
    spec = tmp_path / "tiny.json"
    spec.write_text('[{"Conv1D": {"filters": 4, "kernel_size": 5}}, {"GlobalMaxPooling1D": {}}]')
    code, out, _ = cli("summary", spec, "--length", "20")
    assert code == 0 and "Total params: 84" in out  # 5 * 4 * 4 + 4


@pytest.mark.parametrize(
    "text, args, message",
    [
        ('[{"Conv3D": {}}]', ["--length", "20"], r"layer 0: unknown layer type 'Conv3D'; valid types: Conv1D"),
        (
            '[{"Conv1D": {"filters": 4, "kernel_size": 5, "pad": 1}}]',
            ["--length", "20"],
            r"unknown argument 'pad'; valid arguments: filters",
        ),
        (
            '[{"Conv1D": {"filters": 4, "kernel_size": 50}}]',
            ["--length", "20"],
            r"layer 0 \(conv1d: Conv1D\) does not fit its input \(None, 20, 4\)",
        ),
        (
            '[{"Conv1D": {"filters": 4, "kernel_size": 5}}, {"Dense": {"units": 2}}]',
            ["--length", "20"],
            r"layer 1 \(dense: Dense\) expects a flat input, but the previous layer gives \(None, 16, 4\)",
        ),
        ('[{"Conv1D": {"filters": 4, "kernel_size": 5}}]', [], "give --length L"),
    ],
)
def test_cli_summary_bad_spec_exits_2_with_one_line(cli, tmp_path, text, args, message):
    spec = tmp_path / "bad.json"
    spec.write_text(text)
    code, out, err = cli("summary", spec, *args)
    assert code == 2 and out == "" and err.count("\n") == 1 and re.search(message, err), err


def test_cli_summary_unknown_model_lists_the_zoo(cli):
    code, _, err = cli("summary", "resnet50")
    assert code == 2 and "valid models: primer" in err and "zeng2016-3layer" in err and "vgg16" in err


def test_cli_models_lists_every_model_with_its_parameter_count(cli):
    code, out, _ = cli("models")
    assert code == 0
    listed = {line.split()[0]: line for line in out.splitlines() if line and not line.startswith(" ")}
    assert list(listed) == zoo.names()
    for name, line in listed.items():
        entry = zoo.entry(name)
        assert f" {_total(zoo.get(name), entry.default_input):,} params" in line
    assert "138,357,544" in listed["vgg16"] and "61,100,840" in listed["alexnet"]
    code, out, _ = cli("models", "--family", "zeng2016")
    assert code == 0 and [line.split()[0] for line in out.splitlines()] == ZENG


def test_chipseq_is_a_zoo_model_for_summary_and_sweep(cli, tmp_path):
    from seqcnn.jobs.sweep import resolve_models

    code, out, _ = cli("summary", "chipseq", "--length", "101")
    assert code == 0 and "Total params: 13,058" in out
    assert resolve_models(["chipseq"], None, tmp_path) == [("chipseq", "chipseq")]
