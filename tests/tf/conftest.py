"""Fixtures for the TensorFlow adapter tests: the shared small vials dataset and a tf generator factory."""
from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import pytest
from adapter_generators import generator_factory


@pytest.fixture(scope="session")
def tf_vials_root(small_vials_root):
    return small_vials_root


@pytest.fixture(scope="session")
def tf_samples(small_vials_samples):
    return small_vials_samples


@pytest.fixture
def make_tf_generator(tf_samples):
    """build_image_data_generator in the tf flavour with small defaults; keywords override them."""
    return generator_factory("brevetti_tf", tf_samples)
