"""The demo CNN as data: its layers, its numpy-drawn initial weights and its reference forward pass."""
import numpy as np
import pytest
from pydantic import ValidationError

from brevetti_demo.model import CnnSpec, Layer, initial_weights, reference_logits


def test_layers_are_conv_blocks_then_average_then_dense():
    spec = CnnSpec(image_size=(64, 64), classes=3, filters=(8, 16), hidden=32)
    assert spec.layers() == [
        Layer("conv", "conv0", (3, 3, 3, 8), relu=True), Layer("maxpool", "pool0"),
        Layer("conv", "conv1", (3, 3, 8, 16), relu=True), Layer("maxpool", "pool1"),
        Layer("global_average", "average"),
        Layer("dense", "hidden", (16, 32), relu=True), Layer("dense", "logits", (32, 3)),
    ]


def test_no_hidden_layer_feeds_the_average_straight_to_the_logits():
    layers = CnnSpec(image_size=(16, 16), classes=2, filters=(4,), hidden=0).layers()
    assert [layer.name for layer in layers] == ["conv0", "pool0", "average", "logits"]
    assert layers[-1].kernel == (4, 2)


def test_parameter_count_is_the_size_of_the_weights():
    spec = CnnSpec(image_size=(64, 64), classes=3)
    assert spec.parameter_count() == sum(w.size for w in initial_weights(spec, 0).values())


def test_kernels_are_he_normal_and_biases_zero():
    spec = CnnSpec(image_size=(32, 32), classes=3, filters=(64, 64), hidden=0)
    weights = initial_weights(spec, 0)
    kernel = weights["conv1/kernel"]
    assert kernel.dtype == np.float32 and kernel.shape == (3, 3, 64, 64)
    assert kernel.std() == pytest.approx(np.sqrt(2 / (3 * 3 * 64)), rel=0.03)
    assert abs(kernel.mean()) < 0.01
    assert all(not weights[name].any() for name in weights if name.endswith("/bias"))


def test_same_seed_gives_the_same_weights_another_seed_others():
    spec = CnnSpec(image_size=(32, 32), classes=3)
    first, again, other = initial_weights(spec, 5), initial_weights(spec, 5), initial_weights(spec, 6)
    assert all(np.array_equal(first[name], again[name]) for name in first)
    assert not np.array_equal(first["conv0/kernel"], other["conv0/kernel"])


def test_a_layer_keeps_its_weights_when_another_layer_changes():
    wide = initial_weights(CnnSpec(image_size=(32, 32), classes=3, hidden=64), 0)
    narrow = initial_weights(CnnSpec(image_size=(32, 32), classes=3, hidden=16), 0)
    assert np.array_equal(wide["conv2/kernel"], narrow["conv2/kernel"])
    assert wide["hidden/kernel"].shape != narrow["hidden/kernel"].shape


def test_even_kernel_size_is_refused_with_the_reason():
    with pytest.raises(ValidationError, match="kernel_size must be odd"):
        CnnSpec(image_size=(32, 32), classes=3, kernel_size=4)


def test_image_too_small_for_the_pooling_blocks_is_refused():
    with pytest.raises(ValidationError,
                       match=r"image_size \(8, 8\) is too small for 4 pooling blocks; use at least 16"):
        CnnSpec(image_size=(8, 8), classes=3, filters=(4, 4, 4, 4))


def one_channel_network(kernel: np.ndarray) -> tuple[CnnSpec, dict]:
    """2x2 grey images -> one conv channel -> 2x2 max pool -> logits (identity dense, second logit 0)."""
    spec = CnnSpec(image_size=(2, 2), channels=1, classes=2, filters=(1,), kernel_size=kernel.shape[0], hidden=0)
    weights = {"conv0/kernel": kernel.reshape(*kernel.shape, 1, 1), "conv0/bias": np.zeros(1),
               "logits/kernel": np.array([[1.0, 0.0]]), "logits/bias": np.zeros(2)}
    return spec, weights


def test_reference_conv_is_a_cross_correlation_with_zero_padding():
    image = np.array([[5.0, 1.0], [1.0, 9.0]]).reshape(1, 2, 2, 1)
    top_left = np.zeros((3, 3))
    top_left[0, 0] = 1.0  # each output pixel takes its upper-left neighbour (zero outside the image)
    spec, weights = one_channel_network(top_left)
    assert reference_logits(spec, weights, image).tolist() == [[5.0, 0.0]]


def test_reference_applies_bias_relu_and_max_pool():
    image = np.array([[1.0, -4.0], [3.0, 2.0]]).reshape(1, 2, 2, 1)
    spec, weights = one_channel_network(np.array([[-2.0]]))
    weights["conv0/bias"] = np.array([1.0])
    # 1x1 conv: -2x + 1 = [[-1, 9], [-5, -3]]; relu then max pool: 9.
    assert reference_logits(spec, weights, image).tolist() == [[9.0, 0.0]]
