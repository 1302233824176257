"""Named architectures, each a function that returns a :class:`ModelSpec`.

Look a model up with :func:`get` (``get("primer", input_shape=(4, 50))``); an unknown name
lists the valid ones. Input length, channels and number of classes are arguments, never
constants; :data:`ZOO` records each model's default input so that ``seqcnn models`` can print
it. Models that belong together (the nine architectures of Zeng et al. 2016) share a family,
listed by :func:`family`, which is what a sweep iterates over.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from seqcnn.errors import SpecError
from seqcnn.models.spec import ModelSpec


@dataclass(frozen=True)
class ZooEntry:
    """A zoo model: its builder, the kind of input it takes and its default input shape."""

    build: Callable[..., ModelSpec]
    kind: str  # "sequence" or "image"
    default_input: tuple[int, ...]  # channels first
    summary: str
    family: str = ""
    recipe: str = ""  # the training recipe tuned for this model (seqcnn.training.recipes.RECIPES), or "" for none


ZOO: dict[str, ZooEntry] = {}


def register(name: str, kind: str, default_input: tuple[int, ...], summary: str, family: str | None = None,
             recipe: str = ""):
    """Decorator that adds a spec builder to the zoo under ``name``.

    Args:
        name: the zoo name.
        kind: ``"sequence"`` or ``"image"``.
        default_input: channels-first input shape used when none is given.
        summary: one line about the model and its source.
        family: the group the model belongs to; by default the part of ``name`` before the
            first ``-`` (``zeng2016-2layer`` -> ``zeng2016``).
        recipe: the name of the training recipe tuned for this model, which ``seqcnn train --model NAME``
            uses on data without a recipe of their own (see ``seqcnn.jobs.train.RecipeChoices``).
    """

    def wrap(fn: Callable[..., ModelSpec]) -> Callable[..., ModelSpec]:
        ZOO[name] = ZooEntry(fn, kind, default_input, summary, family or name.split("-")[0], recipe)
        return fn

    return wrap


def families() -> list[str]:
    """All family names, in registration order."""
    return list(dict.fromkeys(e.family for e in ZOO.values()))


def family(name: str) -> list[str]:
    """The zoo names of one family, in registration order: ``family("zeng2016")``.

    Raises:
        SpecError: for an unknown family, listing the valid ones.
    """
    members = [n for n, e in ZOO.items() if e.family == name]
    if not members:
        raise SpecError(f"unknown model family {name!r}; valid families: {', '.join(families())}")
    return members


def names() -> list[str]:
    """All zoo names, in registration order."""
    return list(ZOO)


def entry(name: str) -> ZooEntry:
    """The zoo entry for ``name``.

    Raises:
        SpecError: for an unknown name, listing the valid ones.
    """
    if name not in ZOO:
        raise SpecError(f"unknown model {name!r}; valid models: {', '.join(ZOO)} (or a spec .json file)")
    return ZOO[name]


def get(name: str, *, classes: int | None = None, input_shape: tuple[int, ...] | None = None) -> ModelSpec:
    """Build the spec of a zoo model.

    Args:
        name: a zoo name (see :func:`names`).
        classes: number of output classes; the model's default (2 for sequences, 10 for
            images) when None.
        input_shape: channels-first input shape; the model's default when None. Some models
            (those ending in Flatten -> Dense) depend on it only through shape inference.

    Raises:
        SpecError: for an unknown name.
    """
    zoo_entry = entry(name)
    shape = tuple(input_shape or zoo_entry.default_input)
    kwargs = {"input_shape": shape} if classes is None else {"input_shape": shape, "classes": classes}
    spec = zoo_entry.build(**kwargs)
    spec.name = name
    spec.description = zoo_entry.summary
    return spec


def _spec(layers: list[dict]) -> ModelSpec:
    return ModelSpec.from_obj(layers)


def _head(classes: int) -> dict:
    """The output layer: softmax over ``classes`` units (2 for binary tasks, as the primer)."""
    return {"Dense": {"units": classes, "activation": "softmax"}}


@register("primer", "sequence", (4, 50), "Zou et al. 2019 primer: Conv1D(32, 12) -> MaxPool(4) -> Dense(16) -> output",
          recipe="seqcnn")
def primer(classes: int = 2, input_shape: tuple[int, ...] = (4, 50)) -> ModelSpec:
    """The model of Zou et al. 2019, "A primer on deep learning in genomics" (Nat. Genet. 51:12).

    Conv1D(32 filters, kernel 12) -> MaxPooling1D(4) -> Flatten -> Dense(16, relu) ->
    Dense(classes, softmax): 6,226 parameters for 50 bp inputs and two classes.
    """
    return _spec(
        [
            {"Conv1D": {"filters": 32, "kernel_size": 12}},
            {"MaxPooling1D": {"pool_size": 4}},
            {"Flatten": {}},
            {"Dense": {"units": 16, "activation": "relu"}},
            _head(classes),
        ]
    )


@register("deepbind", "sequence", (4, 101), "DeepBind (Alipanahi et al. 2015): 16 x 24 conv, global max pool, Dense 32")
def deepbind(classes: int = 2, input_shape: tuple[int, ...] = (4, 101)) -> ModelSpec:
    """DeepBind (Alipanahi et al. 2015, Nat. Biotechnol. 33:831), as used for ENCODE ChIP-seq.

    Conv1D(16 filters, width 24, relu) -> GlobalMaxPooling1D -> Dense(32, relu) ->
    Dropout(0.5) -> Dense(classes, softmax). The paper calibrated motif count, width and
    hidden units per experiment; these are its typical values.
    """
    return _spec(
        [
            {"Conv1D": {"filters": 16, "kernel_size": 24, "activation": "relu"}},
            {"GlobalMaxPooling1D": {}},
            {"Dense": {"units": 32, "activation": "relu"}},
            {"Dropout": {"rate": 0.5}},
            _head(classes),
        ]
    )


#: seqcnn's default for positives-only ChIP-seq data (``--model chipseq``). Chosen by measurement on
#: the ten ENCODE experiments (BENCHMARKS.md, ENCODE; ``benchmarks/studies/encode_grid.py``): more kernels and
#: narrower ones beat DeepBind's 16 x 24 and a 128 x 24 layer, deeper stacks did worse, and a
#: Dense(32) + Dropout head learned slower than the output layer directly on the pooled kernels.
@register("chipseq", "sequence", (4, 101), "256 x 12 conv, global max pool, softmax (seqcnn's ChIP-seq default)")
def chipseq(classes: int = 2, input_shape: tuple[int, ...] = (4, 101)) -> ModelSpec:
    """seqcnn's ChIP-seq model: Conv1D(256 filters, width 12, relu) -> GlobalMaxPooling1D ->
    Dense(classes, softmax): 13,058 parameters for two classes, at any input length."""
    return _spec(
        [
            {"Conv1D": {"filters": 256, "kernel_size": 12, "activation": "relu"}},
            {"GlobalMaxPooling1D": {}},
            _head(classes),
        ]
    )


#: seqcnn's position-aware model for labelled sequences (``--model local``), which ``seqcnn train`` picks in place
#: of ``chipseq`` when a short race on the user's data shows that where a motif sits matters
#: (``seqcnn.jobs.position``). Chosen on the defaults panel's position-dependent sets (docs/benchmarks/panel.md):
#: local max pooling over 4 positions keeps each motif's place to within 4 bases, the dense layer reads where it
#: is, and dropout on both sides of it keeps the wide flattened layer from memorising small tables.
@register("local", "sequence", (4, 101),
          "64 x 9 conv, max pool 4, dense 32 with dropout, softmax (seqcnn's position-aware default)")
def local(classes: int = 2, input_shape: tuple[int, ...] = (4, 101)) -> ModelSpec:
    """seqcnn's position-aware model: Conv1D(64 filters, width 9, relu) -> MaxPooling1D(4) -> Flatten ->
    Dropout(0.5) -> Dense(32, relu) -> Dropout(0.5) -> Dense(classes, softmax): 49,570 parameters for 101-bp
    inputs and two classes (the dense layer grows with the length: 64 x floor((L - 8) / 4) inputs)."""
    return _spec(
        [
            {"Conv1D": {"filters": 64, "kernel_size": 9, "activation": "relu"}},
            {"MaxPooling1D": {"pool_size": 4}},
            {"Flatten": {}},
            {"Dropout": {"rate": 0.5}},
            {"Dense": {"units": 32, "activation": "relu"}},
            {"Dropout": {"rate": 0.5}},
            _head(classes),
        ]
    )


@register("fashion-dense", "image", (1, 28, 28), "Geron 2022 ch. 10: dense baseline Flatten -> 300 -> 100 -> 10")
def fashion_dense(classes: int = 10, input_shape: tuple[int, ...] = (1, 28, 28)) -> ModelSpec:
    """The dense Fashion-MNIST baseline of Geron (2022), "Hands-On Machine Learning", ch. 10.

    Flatten -> Dense(300, relu) -> Dense(100, relu) -> Dense(classes, softmax): 266,610
    parameters for 28 x 28 images and ten classes.
    """
    return _spec(
        [
            {"Flatten": {}},
            {"Dense": {"units": 300, "activation": "relu"}},
            {"Dense": {"units": 100, "activation": "relu"}},
            _head(classes),
        ]
    )


@register("fashion-cnn", "image", (1, 28, 28), "Geron 2022 ch. 14: the lecture's Fashion-MNIST CNN (64-128-256)",
          recipe="fashion")
def fashion_cnn(classes: int = 10, input_shape: tuple[int, ...] = (1, 28, 28)) -> ModelSpec:
    """The Fashion-MNIST CNN of Geron (2022), "Hands-On Machine Learning", ch. 14.

    Conv2D(64, 7x7, same) -> MaxPool -> 2 x Conv2D(128, 3x3, same) -> MaxPool ->
    2 x Conv2D(256, 3x3, same) -> MaxPool -> Flatten -> Dense(128) -> Dropout(0.5) ->
    Dense(64) -> Dropout(0.5) -> Dense(classes, softmax): 1,413,834 parameters.
    """

    def conv(filters: int, size: int) -> dict:
        return {"Conv2D": {"filters": filters, "kernel_size": size, "padding": "same", "activation": "relu"}}

    return _spec(
        [
            conv(64, 7),
            {"MaxPooling2D": {"pool_size": 2}},
            conv(128, 3),
            conv(128, 3),
            {"MaxPooling2D": {"pool_size": 2}},
            conv(256, 3),
            conv(256, 3),
            {"MaxPooling2D": {"pool_size": 2}},
            {"Flatten": {}},
            {"Dense": {"units": 128, "activation": "relu"}},
            {"Dropout": {"rate": 0.5}},
            {"Dense": {"units": 64, "activation": "relu"}},
            {"Dropout": {"rate": 0.5}},
            _head(classes),
        ]
    )


# --- Zeng et al. 2016 -------------------------------------------------------------------------

ZENG_CITATION = (
    'Zeng, Edwards, Liu and Gifford (2016), "Convolutional neural network architectures for '
    'predicting DNA-protein binding", Bioinformatics 32(12):i121-i127'
)

#: Kernels and kernel width of the convolutional layers after the first (our choice, see below).
ZENG_DEEPER = ((32, 9), (64, 3))


def _zeng(classes: int, filters: int = 16, depth: int = 1, local_window: int | None = None) -> ModelSpec:
    """A Zeng et al. 2016 network: ``depth`` conv layers, then global or local max pooling.

    The first layer is DeepBind's (``filters`` kernels of width 24, ReLU). Each further layer
    is preceded by MaxPooling1D(3) and takes its kernels and width from :data:`ZENG_DEEPER`.
    The top is global max pooling, or MaxPooling1D(``local_window``) and Flatten, followed by
    Dense(32, relu), Dropout(0.5) and the output layer.
    """
    layers = [{"Conv1D": {"filters": filters, "kernel_size": 24, "activation": "relu"}}]
    for deeper_filters, width in ZENG_DEEPER[: depth - 1]:
        layers += [
            {"MaxPooling1D": {"pool_size": 3}},
            {"Conv1D": {"filters": deeper_filters, "kernel_size": width, "activation": "relu"}},
        ]
    if local_window:
        layers += [{"MaxPooling1D": {"pool_size": local_window}}, {"Flatten": {}}]
    else:
        layers += [{"GlobalMaxPooling1D": {}}]
    layers += [{"Dense": {"units": 32, "activation": "relu"}}, {"Dropout": {"rate": 0.5}}, _head(classes)]
    return _spec(layers)


_ZENG_CHOICES = """
    The paper (Table 1 and Section 2) fixes the variable it studies: the number of kernels,
    local or global max pooling and its window, and the number of convolutional layers, on
    101 bp ENCODE ChIP-seq windows. Where it is not explicit we chose, and say so: kernel
    width 24 and 16 kernels for the first layer, Dense(32, relu) and Dropout(0.5) above the
    pooling (DeepBind's values, of which ``zeng2016-1layer`` is the re-implementation); a
    MaxPooling1D(3) between stacked convolutions; 32 kernels of width 9 for a second layer and
    64 kernels of width 3 for a third (:data:`ZENG_DEEPER`); a softmax output over ``classes``
    units as the other sequence models here.
"""


def _zeng_doc(first: str) -> str:
    return f"{first}\n\n    From {ZENG_CITATION}.\n{_ZENG_CHOICES}"


def _register_zeng(
    suffix: str, summary: str, filters: int = 16, depth: int = 1, local_window: int | None = None
) -> None:
    name = f"zeng2016-{suffix}"

    def build(classes: int = 2, input_shape: tuple[int, ...] = (4, 101)) -> ModelSpec:
        return _zeng(classes, filters, depth, local_window)

    build.__name__ = name.replace("-", "_")
    build.__doc__ = _zeng_doc(f"Zeng et al. 2016 ``{suffix}``: {summary}.")
    register(name, "sequence", (4, 101), f"Zeng et al. 2016: {summary}")(build)


_register_zeng("1layer", "DeepBind-like baseline, 16 x 24 conv, global max pool")
_register_zeng("1layer_1motif", "one 24 bp kernel, global max pool", filters=1)
_register_zeng("1layer_64motif", "64 x 24 conv, global max pool", filters=64)
_register_zeng("1layer_128motif", "128 x 24 conv, global max pool", filters=128)
_register_zeng("1layer_local_win3", "16 x 24 conv, local max pool of 3 instead of global", local_window=3)
_register_zeng("1layer_local_win9", "16 x 24 conv, local max pool of 9 instead of global", local_window=9)
_register_zeng("2layer", "two conv layers (16 x 24, 32 x 9), global max pool", depth=2)
_register_zeng("2layer_local_win3", "two conv layers, local max pool of 3 on top", depth=2, local_window=3)
_register_zeng("3layer", "three conv layers (16 x 24, 32 x 9, 64 x 3), global max pool", depth=3)


# --- ImageNet classics ------------------------------------------------------------------------


@register("alexnet", "image", (3, 224, 224), "AlexNet as in torchvision (Krizhevsky et al. 2012; one-GPU variant)")
def alexnet(classes: int = 1000, input_shape: tuple[int, ...] = (3, 224, 224)) -> ModelSpec:
    """AlexNet as torchvision builds it (``torchvision.models.alexnet``), 61,100,840 parameters.

    Krizhevsky, Sutskever and Hinton (2012), "ImageNet classification with deep convolutional
    neural networks", NeurIPS, in the one-GPU form of Krizhevsky (2014), "One weird trick for
    parallelizing convolutional neural networks" (arXiv:1404.5997), which torchvision follows:
    Conv2D(64, 11x11, stride 4, padding 2) -> MaxPool(3, 2) -> Conv2D(192, 5x5, padding 2) ->
    MaxPool(3, 2) -> Conv2D(384, 3x3) -> Conv2D(256, 3x3) -> Conv2D(256, 3x3) (padding 1) ->
    MaxPool(3, 2) -> Flatten -> Dropout(0.5) -> Dense(4096) -> Dropout(0.5) -> Dense(4096) ->
    Dense(classes). All hidden layers use ReLU.

    torchvision's ``AdaptiveAvgPool2d((6, 6))`` is the identity at 224 x 224 (the feature map
    is already 6 x 6) and is left out; for an input whose feature map is a multiple of 6 it
    becomes the equivalent AveragePooling2D.

    Raises:
        SpecError: when the input gives a feature map that is not a multiple of 6 x 6.
    """

    def conv(filters: int, size: int, stride: int = 1, padding: int = 1) -> dict:
        return {
            "Conv2D": {
                "filters": filters,
                "kernel_size": size,
                "strides": stride,
                "padding": padding,
                "activation": "relu",
            }
        }

    pool = {"MaxPooling2D": {"pool_size": 3, "strides": 2}}
    features = [conv(64, 11, 4, 2), pool, conv(192, 5, padding=2), pool, conv(384, 3), conv(256, 3), conv(256, 3), pool]
    _, height, width = _spec(features).analyse(tuple(input_shape))[-1].out_shape
    if (height, width) != (6, 6):
        if height % 6 or width % 6:
            raise SpecError(
                f"alexnet: input {tuple(input_shape)} gives a {height}x{width} feature map; adaptive pooling to 6x6 "
                "is supported here only for multiples of 6 (224x224 gives 6x6)"
            )
        features.append({"AveragePooling2D": {"pool_size": [height // 6, width // 6]}})
    dense = [{"Dropout": {"rate": 0.5}}, {"Dense": {"units": 4096, "activation": "relu"}}]
    return _spec([*features, {"Flatten": {}}, *dense, *dense, _head(classes)])


@register("vgg16", "image", (3, 224, 224), "VGG16 (Simonyan and Zisserman 2015, config D), as keras.applications.VGG16")
def vgg16(classes: int = 1000, input_shape: tuple[int, ...] = (3, 224, 224)) -> ModelSpec:
    """VGG16, configuration D of Simonyan and Zisserman (2015), "Very deep convolutional networks
    for large-scale image recognition", ICLR; layers and names as ``keras.applications.VGG16``.

    Five blocks of 3x3 same-padded ReLU convolutions (64, 64 | 128, 128 | 256 x 3 | 512 x 3 |
    512 x 3), each ending in MaxPool(2); Flatten; Dense(4096) x 2 (ReLU); Dense(classes,
    softmax): 138,357,544 parameters at 224 x 224 x 3 with 1000 classes. Keras's version has
    no dropout (torchvision's adds two Dropout(0.5), which have no parameters).
    """
    layers = []
    for block, (filters, convs) in enumerate([(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)], start=1):
        for i in range(1, convs + 1):
            layers.append(
                {
                    "Conv2D": {
                        "filters": filters,
                        "kernel_size": 3,
                        "padding": "same",
                        "activation": "relu",
                        "name": f"block{block}_conv{i}",
                    }
                }
            )
        layers.append({"MaxPooling2D": {"pool_size": 2, "name": f"block{block}_pool"}})
    layers += [
        {"Flatten": {"name": "flatten"}},
        {"Dense": {"units": 4096, "activation": "relu", "name": "fc1"}},
        {"Dense": {"units": 4096, "activation": "relu", "name": "fc2"}},
        {"Dense": {"units": classes, "activation": "softmax", "name": "predictions"}},
    ]
    return _spec(layers)


# --- Recurrent and attention models ----------------------------------------------------------


def _sigmoid_head(outputs: int) -> dict:
    """A multi-label output: one sigmoid unit per target (DeepSEA's 919 chromatin features)."""
    return {"Dense": {"units": outputs, "activation": "sigmoid"}}


@register(
    "danq",
    "sequence",
    (4, 1000),
    "DanQ (Quang and Xie 2016): 320 x 26 conv, BiLSTM 320, Dense 925, 919 sigmoid outputs",
    family="multilabel",
)
def danq(classes: int = 919, input_shape: tuple[int, ...] = (4, 1000)) -> ModelSpec:
    """DanQ, Quang and Xie (2016), "DanQ: a hybrid convolutional and recurrent deep neural network for
    quantifying the function of DNA sequences", Nucleic Acids Res. 44(11):e107.

    Conv1D(320, 26, relu) -> MaxPooling1D(13, stride 13) -> Dropout(0.2) -> Bidirectional(LSTM(320,
    return_sequences)) -> Dropout(0.5) -> Flatten -> Dense(925, relu) -> Dense(classes, sigmoid):
    46,926,479 parameters at 1,000 bp with 919 outputs, as Keras counts them (the paper's Keras
    model; ``benchmarks/parity/keras_layers.py`` checks it).
    """
    return _spec(
        [
            {"Conv1D": {"filters": 320, "kernel_size": 26, "activation": "relu"}},
            {"MaxPooling1D": {"pool_size": 13, "strides": 13}},
            {"Dropout": {"rate": 0.2}},
            {"Bidirectional": {"layer": {"LSTM": {"units": 320, "return_sequences": True}}, "merge_mode": "concat"}},
            {"Dropout": {"rate": 0.5}},
            {"Flatten": {}},
            {"Dense": {"units": 925, "activation": "relu"}},
            _sigmoid_head(classes),
        ]
    )


@register(
    "deepsea",
    "sequence",
    (4, 1000),
    "DeepSEA (Zhou and Troyanskaya 2015): 3 conv layers 320-480-960, Dense 925, 919 sigmoid",
    family="multilabel",
)
def deepsea(classes: int = 919, input_shape: tuple[int, ...] = (4, 1000)) -> ModelSpec:
    """DeepSEA, Zhou and Troyanskaya (2015), "Predicting effects of noncoding variants with deep
    learning-based sequence model", Nat. Methods 12:931.

    Conv1D(320, 8, relu) -> MaxPooling1D(4) -> Dropout(0.2) -> Conv1D(480, 8, relu) ->
    MaxPooling1D(4) -> Dropout(0.2) -> Conv1D(960, 8, relu) -> Dropout(0.5) -> Flatten ->
    Dense(925, relu) -> Dense(classes, sigmoid): 52,843,119 parameters at 1,000 bp with 919
    outputs. The paper's L1/L2 penalties and max-norm constraint are training settings, not layers.
    """
    return _spec(
        [
            {"Conv1D": {"filters": 320, "kernel_size": 8, "activation": "relu"}},
            {"MaxPooling1D": {"pool_size": 4}},
            {"Dropout": {"rate": 0.2}},
            {"Conv1D": {"filters": 480, "kernel_size": 8, "activation": "relu"}},
            {"MaxPooling1D": {"pool_size": 4}},
            {"Dropout": {"rate": 0.2}},
            {"Conv1D": {"filters": 960, "kernel_size": 8, "activation": "relu"}},
            {"Dropout": {"rate": 0.5}},
            {"Flatten": {}},
            {"Dense": {"units": 925, "activation": "relu"}},
            _sigmoid_head(classes),
        ]
    )


@register(
    "basset",
    "sequence",
    (4, 600),
    "Basset (Kelley et al. 2016): 3 conv layers 300-200-200 with batch norm, 2 x Dense 1000, 164 sigmoid",
    family="multilabel",
)
def basset(classes: int = 164, input_shape: tuple[int, ...] = (4, 600)) -> ModelSpec:
    """Basset, Kelley, Snoek and Rinn (2016), "Basset: learning the regulatory code of the accessible
    genome with deep convolutional neural networks", Genome Res. 26:990.

    Three convolutions (300 x 19, 200 x 11, 200 x 7), each followed by batch normalisation, ReLU
    and max pooling (3, 4, 4); Flatten; two Dense(1000) layers, each with batch normalisation,
    ReLU and Dropout(0.3); Dense(classes, sigmoid) over the 164 DNase-seq cell types. At 600 bp
    the last pooling leaves 10 positions (2,000 features), as in the paper's model:
    4,140,464 parameters as Keras counts them, 5,400 of which (the batch-norm moving means and
    variances) are not trainable.
    """

    def conv(filters: int, width: int, pool: int) -> list[dict]:
        return [
            {"Conv1D": {"filters": filters, "kernel_size": width}},
            {"BatchNormalization": {}},
            {"Activation": {"activation": "relu"}},
            {"MaxPooling1D": {"pool_size": pool}},
        ]

    def dense() -> list[dict]:
        return [
            {"Dense": {"units": 1000}},
            {"BatchNormalization": {}},
            {"Activation": {"activation": "relu"}},
            {"Dropout": {"rate": 0.3}},
        ]

    return _spec(
        [
            *conv(300, 19, 3),
            *conv(200, 11, 4),
            *conv(200, 7, 4),
            {"Flatten": {}},
            *dense(),
            *dense(),
            _sigmoid_head(classes),
        ]
    )


@register(
    "cnn-bilstm",
    "sequence",
    (4, 101),
    "DanQ-like ChIP-seq model: 128 x 12 conv, max pool 4, BiLSTM 64, global max pool",
    family="hybrid",
)
def cnn_bilstm(classes: int = 2, input_shape: tuple[int, ...] = (4, 101)) -> ModelSpec:
    """A small convolution + bidirectional LSTM model for 101-bp ChIP-seq windows (DanQ's idea at this size).

    Conv1D(128, 12, relu) -> MaxPooling1D(4) -> Dropout(0.2) -> Bidirectional(LSTM(64,
    return_sequences)) -> GlobalMaxPooling1D -> Dropout(0.3) -> Dense(classes, softmax):
    105,346 parameters for two classes.
    """
    return _spec(
        [
            {"Conv1D": {"filters": 128, "kernel_size": 12, "activation": "relu"}},
            {"MaxPooling1D": {"pool_size": 4}},
            {"Dropout": {"rate": 0.2}},
            {"Bidirectional": {"layer": {"LSTM": {"units": 64, "return_sequences": True}}}},
            {"GlobalMaxPooling1D": {}},
            {"Dropout": {"rate": 0.3}},
            _head(classes),
        ]
    )


@register(
    "cnn-transformer",
    "sequence",
    (4, 101),
    "ChIP-seq model: 128 x 12 conv, max pool 4, layer norm, sine positions, 2 transformer encoders, global max pool",
    family="hybrid",
)
def cnn_transformer(classes: int = 2, input_shape: tuple[int, ...] = (4, 101)) -> ModelSpec:
    """A small convolution + transformer model for 101-bp ChIP-seq windows.

    Conv1D(128, 12, relu) -> MaxPooling1D(4) -> LayerNormalization -> SinePositionEncoding ->
    2 x TransformerEncoder (intermediate_dim 256, 4 heads of 32, dropout 0.1, pre-norm:
    ``normalize_first``) -> GlobalMaxPooling1D -> Dropout(0.2) -> Dense(classes, softmax):
    271,746 parameters for two classes. The convolution finds motifs; attention relates motif
    instances anywhere in the window.

    The layer norm puts the motif scores on the scale of the sine encoding (values in [-1, 1]):
    without it the pooled ReLU scores at initialisation are about 0.1 against an encoding of
    about 1 that is the same for every window, and the model, with global average pooling, stayed at
    chance on MYC and ZBTB7A with 1,000 positives (test AUROC 0.57); pre-norm, not keras_hub's
    post-norm default, which did not learn on GABPA either. BENCHMARKS.md, section "Recurrent and
    attention layers".
    """
    encoder = {"TransformerEncoder": {"intermediate_dim": 256, "num_heads": 4, "dropout": 0.1, "normalize_first": True}}
    return _spec(
        [
            {"Conv1D": {"filters": 128, "kernel_size": 12, "activation": "relu"}},
            {"MaxPooling1D": {"pool_size": 4}},
            {"LayerNormalization": {}},
            {"SinePositionEncoding": {}},
            encoder,
            dict(encoder),
            {"GlobalMaxPooling1D": {}},
            {"Dropout": {"rate": 0.2}},
            _head(classes),
        ]
    )


def _mlm_trunk() -> list[dict]:
    """The trunk shared by ``mlm-trunk`` and ``mlm-classifier``: same-padded conv, sine positions, two encoders."""
    encoder = {"TransformerEncoder": {"intermediate_dim": 128, "num_heads": 4, "dropout": 0.1, "normalize_first": True}}
    return [
        {"Conv1D": {"filters": 64, "kernel_size": 12, "padding": "same", "activation": "relu"}},
        {"SinePositionEncoding": {}},
        encoder,
        dict(encoder),
    ]


@register(
    "mlm-trunk",
    "sequence",
    (4, 101),
    "masked-nucleotide pretraining model: conv + 2 transformer encoders, 4 base logits per position (seqcnn pretrain)",
    family="pretraining",
)
def mlm_trunk(classes: int = 4, input_shape: tuple[int, ...] = (4, 101)) -> ModelSpec:
    """The model that ``seqcnn pretrain`` trains to predict hidden bases (:mod:`seqcnn.training.pretrain`).

    Conv1D(64, 12, same, relu) -> SinePositionEncoding -> 2 x TransformerEncoder
    (intermediate_dim 128, 4 heads of 16, dropout 0.1, pre-norm as ``cnn-transformer``) ->
    Conv1D(4, 1): one logit per base and position, ``(None, L, 4)``; 70,340 parameters. The
    convolution keeps every position (no pooling) so that each base has its own prediction.
    ``classes`` is ignored (always 4 bases).
    """
    return _spec([*_mlm_trunk(), {"Conv1D": {"filters": 4, "kernel_size": 1}}])


@register(
    "mlm-classifier",
    "sequence",
    (4, 101),
    "mlm-trunk's layers with global max pooling and an output layer (fine-tuning after seqcnn pretrain)",
    family="pretraining",
)
def mlm_classifier(classes: int = 2, input_shape: tuple[int, ...] = (4, 101)) -> ModelSpec:
    """``mlm-trunk``'s first four layers, then GlobalMaxPooling1D and Dense(classes, softmax).

    Layers 0 to 3 equal ``mlm-trunk``'s, so ``seqcnn train --model mlm-classifier --init-from
    PRETRAIN_RUN`` starts them from a pretrained run; 70,210 parameters for two classes.
    """
    return _spec([*_mlm_trunk(), {"GlobalMaxPooling1D": {}}, _head(classes)])


#: BPNet's crop on each side of its input (2,114 in, 1,000 out), kept for other input lengths by default.
BPNET_CROP = 557


@register(
    "bpnet",
    "sequence",
    (4, 2114),
    "BPNet (Avsec et al. 2021): 64 x 21 conv, 9 dilated residual convs (2..512), profile (conv 75) and counts heads",
    family="profile",
)
def bpnet(classes: int = 2, input_shape: tuple[int, ...] = (4, 2114), output_length: int | None = None,
          control_tracks: int = 0, filters: int = 64, layers: int = 9) -> ModelSpec:
    """BPNet (Avsec et al. 2021, Nat. Genet. 53:354) for base-resolution profiles (``seqcnn train --signal``).

    Conv1D(64, 21, same, relu) -> 9 x DilatedResidual(3, dilations 2, 4, ..., 512) -> ProfileHead: per track
    and position of the central ``output_length`` bases a logit (conv 75 over the trunk and the control tracks),
    and one log count from the trunk's average over that window. ``classes`` is the number of signal tracks
    (2 for stranded data); ``output_length`` defaults to the input less 557 bases on each side (1,000 for the
    2,114-base input). 126,275 parameters for two tracks without control, the count of bpnet-lite 1.1's
    ``BPNet(n_filters=64, n_layers=9, n_outputs=2, n_control_tracks=0)``; receptive field 2,139 bases.
    """
    steps = input_shape[-1]
    if output_length is None:
        output_length = steps - 2 * BPNET_CROP if steps > 2 * BPNET_CROP else max(1, steps - 74)
    return _spec(
        [
            {"Conv1D": {"filters": filters, "kernel_size": 21, "padding": "same", "activation": "relu"}},
            *({"DilatedResidual": {"kernel_size": 3, "dilation_rate": 2**i}} for i in range(1, layers + 1)),
            {"ProfileHead": {"tracks": classes, "output_length": output_length, "kernel_size": 75,
                             "control_tracks": control_tracks}},
        ]
    )
