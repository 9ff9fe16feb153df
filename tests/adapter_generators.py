"""A small-defaults generator factory shared by the torch and tf adapter tests."""
from __future__ import annotations

import importlib


def generator_factory(adapter: str, samples):
    """build_image_data_generator of `adapter` ("brevetti_torch"/"brevetti_tf") with small defaults.

    Keywords given to the returned factory override the defaults.
    """
    build = importlib.import_module(adapter).build_image_data_generator

    def make(**settings):
        settings = {"batch_size": 6, "shuffle": True, "seed": 11, "augmentation": {},
                    "image": {"target_size": (24, 24), "rescale": "imagenet"}, **settings}
        return build(settings.pop("samples", samples), **settings)

    return make
