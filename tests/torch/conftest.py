"""Fixtures for the PyTorch adapter tests: the shared small vials dataset and a torch generator factory."""
from __future__ import annotations

import pytest
from adapter_generators import generator_factory


@pytest.fixture(scope="session")
def vials_root(small_vials_root):
    return small_vials_root


@pytest.fixture(scope="session")
def samples(small_vials_samples):
    return small_vials_samples


@pytest.fixture
def make_generator(samples):
    """build_image_data_generator in the torch flavour with small defaults; keywords override them."""
    return generator_factory("brevetti_torch", samples)
