"""Recurrent and attention layers: Keras's counts, shapes and receptive fields, and what the torch modules compute.

The expected counts are Keras 3.15 / keras_hub 0.32's own (``benchmarks/parity/keras_layers.py`` checks
them, and the layers' outputs, against Keras on 45 random specs and the zoo).
"""

from __future__ import annotations

import math

import pytest
import torch

from seqcnn.errors import SpecError
from seqcnn.models import zoo
from seqcnn.models.attention import SelfAttention, sine_position_encoding
from seqcnn.models.network import build_model
from seqcnn.models.recurrent import Recurrent
from seqcnn.models.spec import ModelSpec
from seqcnn.models.summary import summary

CONV = {"Conv1D": {"filters": 8, "kernel_size": 3}}


def _info(layer: dict, shape: tuple[int, int] = (8, 10)):
    return ModelSpec.from_obj([layer]).analyse(shape)[0]


@pytest.mark.parametrize(
    "layer, params, out_shape",
    [
        ({"LSTM": {"units": 3}}, 4 * (3 * (8 + 3) + 3), (3,)),
        ({"LSTM": {"units": 3, "use_bias": False, "return_sequences": True}}, 4 * 3 * 11, (3, 10)),
        ({"GRU": {"units": 3}}, 3 * (3 * 11 + 6), (3,)),  # reset_after=True: input and recurrent biases
        ({"GRU": {"units": 3, "reset_after": False}}, 3 * (3 * 11 + 3), (3,)),
        ({"Bidirectional": {"layer": {"LSTM": {"units": 3, "return_sequences": True}}}}, 2 * 4 * 36, (6, 10)),
        ({"Bidirectional": {"layer": {"GRU": {"units": 3}}, "merge_mode": "sum"}}, 2 * 3 * 39, (3,)),
        ({"MultiHeadAttention": {"num_heads": 2, "key_dim": 3}}, 3 * (8 * 6 + 6) + 6 * 8 + 8, (8, 10)),
        (
            {"MultiHeadAttention": {"num_heads": 2, "key_dim": 3, "value_dim": 5, "use_bias": False}},
            2 * 8 * 6 + 8 * 10 + 10 * 8,
            (8, 10),
        ),
        ({"LayerNormalization": {}}, 16, (8, 10)),
        ({"SinePositionEncoding": {}}, 0, (8, 10)),
        ({"PositionEmbedding": {"sequence_length": 12}}, 12 * 8, (8, 10)),
        # keras_hub: attention with 3 heads of 8 // 3 = 2, two layer norms, the feed-forward pair
        (
            {"TransformerEncoder": {"intermediate_dim": 5, "num_heads": 3}},
            3 * (8 * 6 + 6) + 6 * 8 + 8 + 32 + 8 * 5 + 5 + 5 * 8 + 8,
            (8, 10),
        ),
    ],
)
def test_parameter_counts_and_shapes_follow_keras(layer, params, out_shape):
    info = _info(layer)
    assert (info.params, info.trainable, info.out_shape) == (params, params, out_shape)
    model = build_model(ModelSpec.from_obj([layer]), (8, 10)).eval()
    assert sum(p.numel() for p in model.parameters()) == params
    assert tuple(model(torch.randn(2, 8, 10)).shape[1:]) == out_shape


def test_danq_counts_46926479_as_keras_with_keras_shapes():
    text = summary(zoo.get("danq"), (4, 1000))
    assert "Total params: 46,926,479" in text
    row = next(line for line in text.splitlines() if line.startswith("bidirectional"))
    assert "(None, 75, 640)" in row and "1,640,960" in row and "global" in row


@pytest.mark.parametrize(
    "name, shape, total, non_trainable",
    [
        ("danq", (4, 1000), 46_926_479, 0),
        ("deepsea", (4, 1000), 52_843_119, 0),
        ("basset", (4, 600), 4_140_464, 5_400),
        ("cnn-bilstm", (4, 101), 105_346, 0),
        ("cnn-transformer", (4, 101), 271_746, 0),
    ],
)
def test_zoo_models_with_new_layers_count_as_keras(name, shape, total, non_trainable):
    infos = zoo.get(name).analyse(shape)
    assert sum(i.params for i in infos) == total
    assert sum(i.params - i.trainable for i in infos) == non_trainable


def test_multilabel_zoo_heads_are_sigmoid():
    for name, outputs in (("danq", 919), ("deepsea", 919), ("basset", 164)):
        spec = zoo.get(name)
        assert spec.output_activation() == "sigmoid"
        assert spec.n_outputs(zoo.entry(name).default_input) == outputs


def test_receptive_field_is_global_from_the_first_mixing_layer_on():
    spec = ModelSpec.from_obj(
        [
            CONV,
            {"MaxPooling1D": {"pool_size": 2}},
            {"SinePositionEncoding": {}},
            {"LSTM": {"units": 4, "return_sequences": True}},
            CONV,
            {"GlobalMaxPooling1D": {}},
        ]
    )
    text = summary(spec, (4, 30))
    fields = [line.split()[-2] for line in text.splitlines() if "(None," in line]
    assert fields == ["3", "4", "4", "global", "global", "global"]


@pytest.mark.parametrize(
    "layer, macs",
    [
        # projections L d h (2k + v) + L h v d, attention matrix h L^2 (k + v)
        ({"MultiHeadAttention": {"num_heads": 2, "key_dim": 3}}, 10 * 8 * 2 * 9 + 10 * 2 * 3 * 8 + 2 * 100 * 6),
        ({"LSTM": {"units": 3}}, 10 * 4 * 3 * 11),
        ({"Bidirectional": {"layer": {"GRU": {"units": 3}}}}, 2 * 10 * 3 * 3 * 11),
        # heads of 8 // 2 = 4: projections 10*8*2*12 + 10*2*4*8, matrix 2*100*8, feed-forward 2*10*8*5
        ({"TransformerEncoder": {"intermediate_dim": 5, "num_heads": 2}}, 1920 + 640 + 1600 + 800),
    ],
)
def test_multiply_adds_include_the_attention_matrix(layer, macs):
    assert _info(layer).macs == macs


@pytest.mark.parametrize(
    "layers, message",
    [
        ([{"Bidirectional": {"layer": {"Dense": {"units": 3}}}}], r"argument 'layer' must be \{\"LSTM\""),
        (
            [{"Bidirectional": {"layer": {"LSTM": {"units": 3}}, "merge_mode": "max"}}],
            r"merge_mode must be one of \['concat', 'sum'",
        ),
        ([{"Bidirectional": {"layer": {"LSTM": {"unit": 3}}}}], r"unknown argument 'unit'; valid arguments: units"),
        (
            [{"LSTM": {"units": 3, "return_sequences": "yes"}}],
            r"Expected true or false. Received return_sequences='yes'",
        ),
        ([{"MultiHeadAttention": {"num_heads": 2}}], r"missing required argument 'key_dim'"),
        (
            [{"TransformerEncoder": {"intermediate_dim": 8, "num_heads": 2, "dropout": 1.5}}],
            r"Expected a float in \[0, 1\)",
        ),
    ],
)
def test_bad_arguments_are_refused_with_the_choices(layers, message):
    with pytest.raises(SpecError, match=message):
        ModelSpec.from_obj(layers)


@pytest.mark.parametrize(
    "layers, shape, message",
    [
        (
            [{"LSTM": {"units": 3}}],
            (40,),
            r"expects a 1D input of shape \(length, channels\), but the previous layer gives \(None, 40\)",
        ),
        (
            [{"TransformerEncoder": {"intermediate_dim": 8, "num_heads": 6}}],
            (4, 10),
            r"num_heads=6 is more than the 4 features",
        ),
        ([{"PositionEmbedding": {"sequence_length": 9}}], (4, 10), r"sequence_length=9 is shorter than the 10 steps"),
    ],
)
def test_layers_that_do_not_fit_their_input_say_why(layers, shape, message):
    with pytest.raises(SpecError, match=message):
        ModelSpec.from_obj(layers).analyse(shape)


def test_lstm_is_torch_lstm_with_one_bias_per_gate():
    torch.manual_seed(0)
    ours = Recurrent("LSTM", 5, 4, return_sequences=True)
    ref = torch.nn.LSTM(5, 4, batch_first=True)
    with torch.no_grad():
        ref.weight_ih_l0.copy_(ours.weight_ih)
        ref.weight_hh_l0.copy_(ours.weight_hh)
        ref.bias_ih_l0.copy_(ours.bias)
        ref.bias_hh_l0.zero_()
    x = torch.randn(3, 5, 7)  # (N, features, steps)
    expected, _ = ref(x.transpose(1, 2))
    torch.testing.assert_close(ours(x), expected.transpose(1, 2))


def test_lstm_starts_with_keras_forget_gate_bias_of_one():
    layer = Recurrent("LSTM", 5, 4)
    assert layer.bias[4:8].tolist() == [1.0] * 4 and layer.bias[:4].abs().sum() == 0


@pytest.mark.parametrize("cell, reset_after", [("LSTM", True), ("GRU", True), ("GRU", False)])
def test_backward_direction_is_the_layer_run_on_the_reversed_sequence(cell, reset_after):
    torch.manual_seed(0)
    both = Recurrent(cell, 5, 4, bidirectional=True, return_sequences=True, reset_after=reset_after)
    backward = Recurrent(cell, 5, 4, return_sequences=True, reset_after=reset_after)
    with torch.no_grad():
        for name, param in backward.named_parameters():
            param.copy_(getattr(both, f"{name}_reverse"))
    x = torch.randn(2, 5, 9)
    out = both(x)
    torch.testing.assert_close(out[:, 4:], backward(x.flip(2)).flip(2))
    last = Recurrent(cell, 5, 4, bidirectional=True, reset_after=reset_after)
    last.load_state_dict(both.state_dict())
    # without return_sequences: the forward's last step and the backward's last step (position 0)
    torch.testing.assert_close(last(x), torch.cat([out[:, :4, -1], out[:, 4:, 0]], dim=1))


def test_gru_reset_before_applies_the_reset_gate_to_the_state_before_the_product():
    torch.manual_seed(0)
    gru = Recurrent("GRU", 3, 2, reset_after=False, return_sequences=True)
    x = torch.randn(1, 3, 2)
    w, u, b = gru.weight_ih, gru.weight_hh, gru.bias
    with torch.no_grad():
        b.normal_()
        h = torch.zeros(2)
        for t in range(2):
            xi = w @ x[0, :, t] + b
            r = torch.sigmoid(xi[:2] + u[:2] @ h)
            z = torch.sigmoid(xi[2:4] + u[2:4] @ h)
            n = torch.tanh(xi[4:] + u[4:] @ (r * h))
            h = (1 - z) * n + z * h
        torch.testing.assert_close(gru(x)[0, :, -1], h)


def test_self_attention_is_softmax_of_scaled_scores_times_values():
    torch.manual_seed(0)
    layer = SelfAttention(6, num_heads=2, key_dim=3, value_dim=4).eval()
    tokens = torch.randn(2, 5, 6)
    weights = layer.weights(tokens)
    assert weights.shape == (2, 2, 5, 5)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 2, 5))
    v = layer.value(tokens).view(2, 5, 2, 4).transpose(1, 2)
    expected = layer.output((weights @ v).transpose(1, 2).reshape(2, 5, 8))
    torch.testing.assert_close(layer.attend(tokens), expected)


def test_attention_without_positions_is_permutation_equivariant_and_positions_break_it():
    torch.manual_seed(0)
    perm = torch.randperm(12)
    x = torch.randn(2, 8, 12)
    plain = build_model(
        ModelSpec.from_obj([{"TransformerEncoder": {"intermediate_dim": 16, "num_heads": 2}}]), (8, 12)
    ).eval()
    torch.testing.assert_close(plain(x[:, :, perm]), plain(x)[:, :, perm])
    spec = ModelSpec.from_obj(
        [{"SinePositionEncoding": {}}, {"TransformerEncoder": {"intermediate_dim": 16, "num_heads": 2}}]
    )
    positioned = build_model(spec, (8, 12)).eval()
    positioned.layers[1].load_state_dict(plain.layers[0].state_dict())
    assert not torch.allclose(positioned(x[:, :, perm]), positioned(x)[:, :, perm], atol=1e-3)


def test_sine_position_encoding_interleaves_sine_and_cosine():
    enc = sine_position_encoding(3, 4)
    assert enc[0].tolist() == [0.0, 1.0, 0.0, 1.0]
    assert enc[1, 2].item() == pytest.approx(math.sin(1 / 10000**0.5))
    assert enc[2, 1].item() == pytest.approx(math.cos(2.0))


def test_attention_dropout_acts_only_in_training():
    torch.manual_seed(0)
    model = build_model(
        ModelSpec.from_obj([{"MultiHeadAttention": {"num_heads": 2, "key_dim": 4, "dropout": 0.5}}]), (8, 6)
    )
    x = torch.randn(2, 8, 6)
    model.eval()
    torch.testing.assert_close(model(x), model(x))
    model.train()
    assert not torch.allclose(model(x), model(x))


def test_new_layers_save_and_load_through_safetensors(tmp_path):
    from seqcnn.runs.folder import load_model, save_model

    spec = ModelSpec.from_obj(
        [
            CONV,
            {"SinePositionEncoding": {}},
            {"PositionEmbedding": {"sequence_length": 20}},
            {"LayerNormalization": {}},
            {"MultiHeadAttention": {"num_heads": 2, "key_dim": 4}},
            {"TransformerEncoder": {"intermediate_dim": 16, "num_heads": 2}},
            {"Bidirectional": {"layer": {"GRU": {"units": 3, "return_sequences": True, "reset_after": False}}}},
            {"LSTM": {"units": 5}},
            {"Dense": {"units": 2, "activation": "softmax"}},
        ]
    )
    model = build_model(spec, (4, 20)).eval()
    save_model(tmp_path, model)
    again = load_model(tmp_path)
    x = torch.randn(3, 4, 20)
    torch.testing.assert_close(again(x), model(x))
    assert not any("encoding" in key for key in model.state_dict())  # the fixed sine table is rebuilt, not saved


def test_attention_weights_of_the_last_attention_layer_with_input_positions():
    from seqcnn.models.network import attention_weights

    model = build_model(zoo.get("cnn-transformer"), (4, 101))
    x = torch.randn(3, 4, 101)
    weights, centres = attention_weights(model, x)
    assert weights.shape == (3, 4, 22, 22)  # (101 - 11) // 4 = 22 positions, 4 heads
    torch.testing.assert_close(weights.sum(-1), torch.ones(3, 4, 22))
    assert centres[0].item() == 7.0 and centres[1].item() == 11.0  # conv 12 then pool 4: centre 5.5 + 1.5, jump 4
    assert model.training  # left as it was
    with pytest.raises(ValueError, match="has no MultiHeadAttention or TransformerEncoder layer"):
        attention_weights(build_model(zoo.get("primer"), (4, 50)), torch.randn(1, 4, 50))


def test_attributions_work_through_attention_and_recurrent_layers(capsys):
    import numpy as np

    from seqcnn.interpret.attribution import class_score, deep_lift_shap, gradient_x_input, saturation_mutagenesis

    torch.manual_seed(0)
    spec = ModelSpec.from_obj([
        {"Conv1D": {"filters": 8, "kernel_size": 5, "activation": "relu"}},
        {"LayerNormalization": {}},
        {"MultiHeadAttention": {"num_heads": 2, "key_dim": 4}},
        {"Bidirectional": {"layer": {"GRU": {"units": 3, "return_sequences": True}}}},
        {"GlobalMaxPooling1D": {}},
        {"Dense": {"units": 2, "activation": "softmax"}},
    ])
    model = build_model(spec, (4, 24)).eval()
    x = np.eye(4, dtype=np.float32)[np.random.default_rng(0).integers(0, 4, (2, 24))].transpose(0, 2, 1)
    grad = gradient_x_input(model, x)
    ism = saturation_mutagenesis(model, x)
    variant = torch.as_tensor(x[:1]).clone()
    variant[0, :, 7] = torch.tensor([0.0, 0.0, 0.0, 1.0]) if x[0, 3, 7] == 0 else torch.tensor([1.0, 0.0, 0.0, 0.0])
    base = int(variant[0, :, 7].argmax())
    with torch.no_grad():
        expected = class_score(model(variant), 1) - class_score(model(torch.as_tensor(x[:1])), 1)
    assert ism[0, base, 7] == pytest.approx(expected.item(), abs=1e-5)
    assert np.count_nonzero(grad * (1 - x)) == 0 and np.abs(grad).sum() > 0
    shap = deep_lift_shap(model, x, n_shuffles=2)
    assert shap.shape == x.shape and np.isfinite(shap).all() and np.abs(shap).sum() > 0
    assert "DeepLIFT/SHAP has no rule for the gates of LSTM/GRU" in capsys.readouterr().err
