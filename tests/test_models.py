
import numpy as np
import pytest
import torch

from seqcnn.errors import SpecError
from seqcnn.models import zoo
from seqcnn.models.network import build_model
from seqcnn.models.spec import ModelSpec
from seqcnn.models.summary import summary


def test_primer_summary_matches_keras():
    text = summary(zoo.get("primer"), (4, 50))
    lines = {
        line.split()[0]: line for line in text.splitlines() if line.startswith(("conv1d", "max_", "flatten", "dense"))
    }
    assert "(None, 39, 32)" in lines["conv1d"] and "1,568" in lines["conv1d"]
    assert "(None, 9, 32)" in lines["max_pooling1d"]
    assert "(None, 288)" in lines["flatten"]
    assert "(None, 16)" in lines["dense"] and "4,624" in lines["dense"]
    assert "(None, 2)" in lines["dense_1"] and "34" in lines["dense_1"]
    assert "Total params: 6,226" in text


@pytest.mark.parametrize("name", zoo.names())
def test_torch_shapes_and_params_equal_spec_analysis(name):
    entry = zoo.entry(name)
    spec = zoo.get(name)
    model = build_model(spec, entry.default_input).eval()
    infos = spec.analyse(entry.default_input)
    x = torch.zeros(2, *entry.default_input)
    for layer, info in zip(model.layers, infos):
        x = layer(x)
        if isinstance(x, tuple):  # a ProfileHead: (profile logits, log counts); the profile is the analysed shape
            assert tuple(x[1].shape) == (2, 1)
            x = x[0]
        assert tuple(x.shape[1:]) == info.out_shape, info.layer.name
    assert sum(p.numel() for p in model.parameters()) == sum(i.trainable for i in infos)


def test_same_padding_even_kernel_and_stride_matches_keras_rule():
    spec = ModelSpec.from_obj([{"Conv1D": {"filters": 2, "kernel_size": 4, "strides": 3, "padding": "same"}},
                               {"MaxPooling1D": {"pool_size": 2, "padding": "same"}}])
    info = spec.analyse((4, 10))
    assert info[0].out_shape == (2, 4) and info[0].pads == ((1, 2),)  # ceil(10/3)=4; total pad 3 split 1|2
    assert info[1].out_shape == (2, 2)
    out = build_model(spec, (4, 10))(torch.randn(1, 4, 10))
    assert out.shape == (1, 2, 2)


def test_spec_json_roundtrip(tmp_path):
    spec = zoo.get("deepbind")
    path = tmp_path / "spec.json"
    path.write_text(spec.to_json())
    again = ModelSpec.load(path)
    assert again.to_obj()["layers"] == spec.to_obj()["layers"]


@pytest.mark.parametrize(
    "layers, message",
    [
        ([{"Conv3D": {}}], "layer 0: unknown layer type 'Conv3D'; valid types: Conv1D, Conv2D"),
        (
            [{"Conv1D": {"filters": 4, "kernel_size": 3, "kernal": 2}}],
            "layer 0 \\(Conv1D\\): unknown argument 'kernal'; valid arguments: filters",
        ),
        ([{"Conv1D": {"filters": 0, "kernel_size": 3}}], "Expected a strictly positive integer. Received filters=0"),
        ([{"Dense": {"units": 2, "activation": "swishy"}}], "activation must be one of"),
        ([{"Conv1D": {"kernel_size": 3}}], "missing required argument 'filters'"),
    ],
)
def test_bad_specs_name_layer_and_argument(layers, message):
    with pytest.raises(SpecError, match=message):
        ModelSpec.from_obj(layers)


def test_misfit_shapes_name_layer_and_both_shapes():
    spec = ModelSpec.from_obj([{"Conv1D": {"filters": 4, "kernel_size": 60}}])
    with pytest.raises(SpecError, match=r"layer 0 \(conv1d: Conv1D\) does not fit its input \(None, 50, 4\)"):
        spec.analyse((4, 50))
    spec = ModelSpec.from_obj([{"Conv1D": {"filters": 4, "kernel_size": 3}}, {"Dense": {"units": 2}}])
    with pytest.raises(
        SpecError, match=r"layer 1 \(dense: Dense\) expects a flat input, but the previous layer gives \(None, 48, 4\)"
    ):
        spec.analyse((4, 50))


def test_unknown_zoo_name_lists_valid_names():
    with pytest.raises(SpecError, match="unknown model 'resnet'; valid models: primer, "):
        zoo.get("resnet")


def test_output_activation_is_folded_out_of_forward():
    model = build_model(zoo.get("primer"), (4, 50))
    assert model.output_activation == "softmax"
    out = model(torch.randn(3, 4, 50))
    assert not torch.allclose(out.sum(1), torch.ones(3))  # logits, not probabilities


@pytest.mark.parametrize("activation", ["relu", "linear"])
def test_conv_then_global_max_in_one_step_equals_the_layers_one_by_one(activation, monkeypatch):
    """Training on the CPU runs Conv1D -> GlobalMaxPooling1D as one step whose backward pass reads only the winning
    windows (network._WindowsGlobalMax); outputs and gradients are those of the two layers run one by one."""
    from seqcnn.models import network
    from seqcnn.sequence import onehot_strings

    torch.manual_seed(0)
    layers = [{"Conv1D": {"filters": 8, "kernel_size": 5, "activation": activation}}, {"GlobalMaxPooling1D": {}},
              {"Dense": {"units": 3}}]
    model = build_model(ModelSpec.from_obj(layers), (4, 40))
    with torch.no_grad():
        model.layers[0].bias.uniform_(-0.5, 0.5)  # a trained model's biases, not the zeros of initialisation
    rng = np.random.default_rng(0)
    seqs = ["ACGTA" * 8, "A" * 40] + ["".join(rng.choice(list("ACGT"), 40)) for _ in range(14)]  # repeats tie
    x = torch.from_numpy(onehot_strings(seqs))
    calls = []
    apply = network._WindowsGlobalMax.apply
    monkeypatch.setattr(network._WindowsGlobalMax, "apply", lambda *a: calls.append(1) or apply(*a))
    model.train()
    results = []
    for run in (model, model.layers):  # SpecModel.forward takes the joint step; the Sequential runs each layer
        model.zero_grad()
        out = run(x)
        out.square().sum().backward()
        results.append((out.detach(), [p.grad.clone() for p in model.parameters()]))
    assert len(calls) == 1  # the joint step ran once, for the model, not for the layers one by one
    (out_joint, grads_joint), (out_layers, grads_layers) = results
    # An activation that never decreases commutes with the maximum, and so does the bias, which the joint step
    # adds after it: a pooled value differs between the paths only by the rounding of its 21 terms (20 products
    # and the bias, each below 1 in size: 21 * 2^-24 < 2e-6), and an output sums 8 of them times Glorot weights
    # below 0.8 in size; 10x margin.
    torch.testing.assert_close(out_joint, out_layers, rtol=0, atol=10 * 8 * 0.8 * 2e-6)
    # A gradient element sums at most 16 non-zero products (one winning window per example; ties among identical
    # windows add up to the same total), in another order than the matrix product's: float32 rounding of such a
    # sum stays far below 1e-5 of the largest element.
    for g_joint, g_layers in zip(grads_joint, grads_layers):
        assert (g_joint - g_layers).abs().max() <= 1e-5 * g_layers.abs().max()
    model.eval()
    model(x)
    with torch.no_grad():
        model.train()(x)
    assert len(calls) == 1  # evaluation and inference keep the layers one by one


@pytest.mark.parametrize(
    "layers, length",
    [
        (
            [
                {"Conv1D": {"filters": 32, "kernel_size": 12}},
                {"MaxPooling1D": {"pool_size": 4}},
                {"Flatten": {}},
                {"Dense": {"units": 2}},
            ],
            50,
        ),
        (
            [
                {"Conv1D": {"filters": 8, "kernel_size": 5, "use_bias": False, "activation": "relu"}},
                {"MaxPooling1D": {"pool_size": 3}},
                {"Conv1D": {"filters": 4, "kernel_size": 3}},
                {"GlobalMaxPooling1D": {}},
                {"Dense": {"units": 1, "activation": "sigmoid"}},
            ],
            40,
        ),
        (
            [
                {"Conv1D": {"filters": 6, "kernel_size": 4, "padding": "same"}},
                {"MaxPooling1D": {"pool_size": 2, "padding": "same"}},
                {"Flatten": {}},
                {"Dense": {"units": 3}},
            ],
            23,
        ),
    ],
)
def test_cpu_window_matmul_path_equals_onednn_convolution(layers, length):
    """Conv1D's sliding-window matrix product (taken in training on the CPU) gives torch's values and gradients."""
    from seqcnn.models import network

    torch.manual_seed(0)
    model = build_model(ModelSpec.from_obj(layers), (4, length))
    results = []
    for fast in (True, False):
        network.FAST_CPU_PATHS = fast
        x = torch.randn(
            16, 4, length, generator=torch.Generator().manual_seed(1), requires_grad=True
        )  # saliency needs d out / d x
        try:
            model.zero_grad()
            first = model.layers[0](x)
            out = model(x)
            out.square().sum().backward()
        finally:
            network.FAST_CPU_PATHS = True
        results.append((first, out, [p.grad.clone() for p in model.parameters()] + [x.grad]))
    (first_fast, out_fast, grads_fast), (first_ref, out_ref, grads_ref) = results
    assert (
        first_fast.stride(1) == 1 and first_ref.stride(2) == 1
    )  # the fast path ran (channels-last view), the reference did not
    # Two float32 algorithms summing the same products in other orders: outputs differ by about 4e-7, the weight
    # gradients (sums over 16 x L positions) by up to 1.1e-5; the largest share of these tolerances used, under
    # ATEN_CPU_CAPABILITY=default with MKL's SSE4.2 code and 2 threads, was 14 %.
    torch.testing.assert_close(out_fast, out_ref, rtol=1e-5, atol=1e-5)
    for g_fast, g_ref in zip(grads_fast, grads_ref):
        torch.testing.assert_close(g_fast, g_ref, rtol=1e-4, atol=1e-5)
    with torch.no_grad():  # inference keeps oneDNN, which is faster there
        assert model.layers[0](x).stride(2) == 1
