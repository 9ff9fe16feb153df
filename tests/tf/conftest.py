"""Fixtures for the TensorFlow adapter tests: a small generated vials dataset and a generator factory."""
from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

from collections.abc import Callable

import pandas as pd
import pytest

from brevetti_core.dataset import Dataset
from brevetti_core.demo.vials import generate_vials


@pytest.fixture(scope="session")
def tf_vials_root(tmp_path_factory):
    """20 RGB vial images of 32x32 (3 classes + one unknown), generated once per session."""
    return generate_vials(tmp_path_factory.mktemp("tf") / "vials", items_per_class=3, shots_per_item=2,
                          duplicates=1, size=32, annotations=False)


@pytest.fixture(scope="session")
def tf_samples(tf_vials_root) -> pd.DataFrame:
    return Dataset(bucket=str(tf_vials_root)).get_image_samples()


@pytest.fixture
def make_tf_generator(tf_samples) -> Callable:
    """build_image_data_generator in the tf flavour with small defaults; keywords override them."""
    import brevetti_tf

    def make(**settings):
        settings = {"batch_size": 6, "shuffle": True, "seed": 11, "augmentation": {},
                    "image": {"target_size": (24, 24), "rescale": "imagenet"}, **settings}
        return brevetti_tf.build_image_data_generator(settings.pop("samples", tf_samples), **settings)

    return make
