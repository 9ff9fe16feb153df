"""`ImageAugmenter`: the reference's augmentation chain as one mapped action (reference §6.2).

Image keys get: affine transform, deformation, filtering, noise. Label keys (masks) get the same
affine matrix and deformation field with nearest interpolation, and nothing else. Parts set to
None are skipped. Parameters are plan columns ``aug.<name>``; see each part for its names.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ..actions import Action, Sample
from ..rng import ParamStreams
from .deformation import ImageDeformation
from .filtering import ImageFiltering
from .noise import ImageNoise
from .transform import RandomTransformer

_DEFAULT = object()


class ImageAugmenter(Action):
    """Random geometry, deformation, filtering and colour noise for ``sample[image_keys]``.

    Defaults: ``image_keys=["img"]``, ``label_keys=["segmentation", "annotation"]`` (label keys a
    sample lacks are passed over), ``RandomTransformer()``, ``ImageNoise()``, ``ImageFiltering()``
    and no deformation. Arrays may be HWC, (T, H, W, C) frames or a tuple of those (one per ROI);
    every frame and ROI of a sample gets the same parameters. A part may also be given as a dict of
    its settings (``random_transformer={"rotate_chance": 0}``), so the whole augmenter can live in
    JSON job settings.
    """

    plan_prefix = "aug"

    def __init__(self, image_keys: Sequence[str] | None = None, label_keys: Sequence[str] | None = None,
                 random_transformer: RandomTransformer | None = _DEFAULT,
                 image_noise: ImageNoise | None = _DEFAULT,
                 image_filter: ImageFiltering | None = _DEFAULT,
                 image_deformation: ImageDeformation | None = None):
        self.image_keys = list(image_keys) if image_keys is not None else ["img"]
        self.label_keys = list(label_keys) if label_keys is not None else ["segmentation", "annotation"]
        self.random_transformer = _part(random_transformer, RandomTransformer)
        self.image_noise = _part(image_noise, ImageNoise)
        self.image_filter = _part(image_filter, ImageFiltering)
        self.image_deformation = _part(image_deformation, ImageDeformation)

    @property
    def parts(self) -> list:
        """The enabled parts in the order they apply to images."""
        return [p for p in (self.random_transformer, self.image_deformation, self.image_filter, self.image_noise)
                if p is not None]

    def sample_params(self, streams: ParamStreams, n: int) -> dict[str, np.ndarray]:
        params: dict[str, np.ndarray] = {}
        for part in self.parts:
            drawn = part.sample_params(streams, n)
            clash = set(drawn) & set(params)
            if clash:
                raise ValueError(f"ImageAugmenter: parameter names {sorted(clash)} are drawn by two parts")
            params.update(drawn)
        return params

    def __call__(self, sample: Sample, params: Mapping[str, Any]) -> Sample:
        result = dict(sample)
        for key in self.image_keys:
            if key not in sample:
                raise KeyError(f"ImageAugmenter: the sample has no image {key!r} (it has {sorted(sample)}); "
                               f"map ImagePipeline first or set image_keys")
            result[key] = _each_image(sample[key], lambda image: self.augment_image(image, params))
        for key in self.label_keys:
            if key in sample:
                result[key] = _each_image(sample[key], lambda label: self.augment_label(label, params))
        return result

    def augment_image(self, image: np.ndarray, params: Mapping[str, Any]) -> np.ndarray:
        """One HWC image with every enabled part applied."""
        image = np.asarray(image, dtype=np.float32)
        for part in self.parts:
            image = part.apply(image, params)
        return image

    def augment_label(self, label: np.ndarray, params: Mapping[str, Any]) -> np.ndarray:
        """One HWC label map with the geometric parts applied, nearest interpolation."""
        label = np.asarray(label, dtype=np.float32)
        for part in (self.random_transformer, self.image_deformation):
            if part is not None:
                label = part.apply_label(label, params)
        return label

    def describe(self) -> str:
        return f"ImageAugmenter({', '.join(type(p).__name__ for p in self.parts)})"


def _each_image(value: Any, fn: Callable[[np.ndarray], np.ndarray]) -> Any:
    """`fn` applied to an HWC array, to each frame of a (T, H, W, C) array, or to each array of a tuple."""
    if isinstance(value, tuple):
        return tuple(_each_image(v, fn) for v in value)
    value = np.asarray(value)
    if value.ndim == 4:
        return np.stack([fn(frame) for frame in value], axis=0)
    if value.ndim != 3:
        raise ValueError(f"ImageAugmenter: expected an HWC image, got an array of shape {value.shape}")
    return fn(value)


def _part(value, kind: type):
    """A part: the default instance, None (off), a dict of its settings, or an instance as given."""
    if value is _DEFAULT:
        return kind()
    if isinstance(value, Mapping):
        return kind(**value)
    if value is not None and not isinstance(value, kind):
        raise TypeError(f"ImageAugmenter: expected a {kind.__name__}, a dict of its settings or None, got {value!r}")
    return value
