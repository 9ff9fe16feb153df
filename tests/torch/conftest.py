"""Fixtures for the PyTorch adapter tests: a small generated vials dataset and a generator factory."""
from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest

from brevetti_core.dataset import Dataset
from brevetti_core.demo.vials import generate_vials


@pytest.fixture(scope="session")
def vials_root(tmp_path_factory):
    """20 RGB vial images of 32x32 (3 classes + one unknown), generated once per session."""
    return generate_vials(tmp_path_factory.mktemp("torch") / "vials", items_per_class=3, shots_per_item=2,
                          duplicates=1, size=32, annotations=False)


@pytest.fixture(scope="session")
def samples(vials_root) -> pd.DataFrame:
    return Dataset(bucket=str(vials_root)).get_image_samples()


@pytest.fixture
def make_generator(samples) -> Callable:
    """build_image_data_generator in the torch flavour with small defaults; keywords override them."""
    import brevetti_torch

    def make(**settings):
        settings = {"batch_size": 6, "shuffle": True, "seed": 11, "augmentation": {},
                    "image": {"target_size": (24, 24), "rescale": "imagenet"}, **settings}
        return brevetti_torch.build_image_data_generator(settings.pop("samples", samples), **settings)

    return make
