"""`ImageAugmenter`: a list of augmentation parts applied in order, as one mapped action (reference §6.2).

Image keys get every part in turn; label keys (masks) get only the geometric parts' label
kernels (nearest interpolation), since photometric parts declare that labels pass them unchanged.
Parts come by keyword as in the reference (affine transform, deformation, filtering, noise, in
that order) or as a list, ``parts=[{"name": "random_transformer", "rotate_chance": 0}, "image_noise"]``,
which can name any registered `AugmentationPart`. Parameters are plan columns ``aug.<name>``.
"""
from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ..actions import Action, Sample
from ..rng import ParamStreams
from .deformation import ImageDeformation
from .filtering import ImageFiltering
from .noise import ImageNoise
from .part import AugmentationPart, registered_parts
from .transform import RandomTransformer

_DEFAULT: Any = object()  # "not given": the keyword part takes its default

PartSpec = AugmentationPart | Mapping[str, Any] | str


class ImageAugmenter(Action):
    """Random geometry, deformation, filtering and colour noise for ``sample[image_keys]``.

    Defaults: ``image_keys=["img"]``, ``label_keys=["segmentation", "annotation"]`` (label keys a
    sample lacks are passed over), ``RandomTransformer()``, ``ImageNoise()``, ``ImageFiltering()``
    and no deformation. Arrays may be HWC, (T, H, W, C) frames or a tuple of those (one per ROI);
    every frame and ROI of a sample gets the same parameters. A part may also be given as a dict of
    its settings (``random_transformer={"rotate_chance": 0}``), so the whole augmenter can live in
    JSON job settings. ``parts`` replaces the four keywords with an ordered list of part instances,
    registered names, or dicts of settings with a ``"name"`` key.
    """

    plan_prefix = "aug"

    def __init__(self, image_keys: Sequence[str] | None = None, label_keys: Sequence[str] | None = None,
                 random_transformer: RandomTransformer | Mapping[str, Any] | None = _DEFAULT,
                 image_noise: ImageNoise | Mapping[str, Any] | None = _DEFAULT,
                 image_filter: ImageFiltering | Mapping[str, Any] | None = _DEFAULT,
                 image_deformation: ImageDeformation | Mapping[str, Any] | None = None,
                 parts: Sequence[PartSpec] | None = None):
        self.image_keys = list(image_keys) if image_keys is not None else ["img"]
        self.label_keys = list(label_keys) if label_keys is not None else ["segmentation", "annotation"]
        # The reference's keyword parts in the order they apply, each with its class and its default.
        keywords = (("random_transformer", random_transformer, RandomTransformer, _DEFAULT),
                    ("image_deformation", image_deformation, ImageDeformation, None),
                    ("image_filter", image_filter, ImageFiltering, _DEFAULT),
                    ("image_noise", image_noise, ImageNoise, _DEFAULT))
        if parts is None:
            built = (_keyword_part(name, value, kind) for name, value, kind, _ in keywords)
            self.parts: list[AugmentationPart] = [part for part in built if part is not None]
            return
        given = [name for name, value, _, default in keywords if value is not default]
        if given:
            raise ValueError(f"ImageAugmenter: give parts either as the parts list or by keyword, not both "
                             f"(got parts and {', '.join(given)})")
        if isinstance(parts, (str, Mapping)) or not isinstance(parts, Sequence):
            raise TypeError(f"ImageAugmenter: parts must be a list of parts, names or settings dicts, got {parts!r}")
        self.parts = [build_part(spec) for spec in parts]

    random_transformer = property(lambda self: self._first(RandomTransformer), doc="The first affine part, or None.")
    image_deformation = property(lambda self: self._first(ImageDeformation), doc="The first deformation, or None.")
    image_filter = property(lambda self: self._first(ImageFiltering), doc="The first filtering part, or None.")
    image_noise = property(lambda self: self._first(ImageNoise), doc="The first noise part, or None.")

    def _first(self, kind: type[AugmentationPart]) -> AugmentationPart | None:
        return next((part for part in self.parts if isinstance(part, kind)), None)

    def sample_params(self, streams: ParamStreams, n: int) -> dict[str, np.ndarray]:
        params: dict[str, np.ndarray] = {}
        owners: dict[str, str] = {}
        for part in self.parts:
            drawn = part.sample_params(streams, n)
            clash = sorted(set(drawn) & set(params))
            if clash:
                raise ValueError(f"ImageAugmenter: {type(part).__name__} draws parameter {clash[0]!r}, which "
                                 f"{owners[clash[0]]} draws too; plan columns aug.<name> must be unique")
            params.update(drawn)
            owners.update(dict.fromkeys(drawn, type(part).__name__))
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
        """One HWC image with every part applied in order."""
        image = np.asarray(image, dtype=np.float32)
        for part in self.parts:
            image = part.output.check(type(part).__name__, image, part.apply(image, params))
        return image

    def augment_label(self, label: np.ndarray, params: Mapping[str, Any]) -> np.ndarray:
        """One HWC label map through every part's label kernel: geometric ones move it, nearest."""
        label = np.asarray(label, dtype=np.float32)
        for part in self.parts:
            label = part.output.check(type(part).__name__, label, part.apply_label(label, params))
        return label

    def describe(self) -> str:
        return f"ImageAugmenter({', '.join(type(p).__name__ for p in self.parts)})"


def build_part(spec: PartSpec) -> AugmentationPart:
    """A part from an instance (as is), a registered name, or a dict of settings with a ``"name"`` key."""
    if isinstance(spec, AugmentationPart):
        return spec
    if isinstance(spec, str):
        spec = {"name": spec}
    if not isinstance(spec, Mapping) or "name" not in spec:
        raise TypeError(f"ImageAugmenter: a part must be an AugmentationPart, a registered name or a dict of "
                        f"settings with a 'name' key, got {spec!r}")
    settings = dict(spec)
    name = settings.pop("name")
    return _construct(part_class(name), settings)


def part_class(name: str) -> type[AugmentationPart]:
    """The part class registered under `name`; ValueError listing the registered names otherwise."""
    known = registered_parts()
    if name in known:
        return known[name]
    close = difflib.get_close_matches(str(name), known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ValueError(f"ImageAugmenter: unknown augmentation part {name!r}{hint}; registered parts: "
                     f"{', '.join(known)} (a subclass of AugmentationPart with a name registers a new one)")


def _keyword_part(keyword: str, value: Any, kind: type[AugmentationPart]) -> AugmentationPart | None:
    """A keyword part: the default instance, None (off), a dict of its settings, or an instance as given."""
    if value is _DEFAULT:
        return kind()
    if isinstance(value, Mapping):
        return _construct(kind, dict(value))
    if value is not None and not isinstance(value, kind):
        raise TypeError(f"ImageAugmenter: {keyword} expects a {kind.__name__}, a dict of its settings or None, "
                        f"got {value!r}")
    return value


def _construct(kind: type[AugmentationPart], settings: dict[str, Any]) -> AugmentationPart:
    """`kind(**settings)`; settings that do not fit its arguments are a TypeError naming the arguments."""
    signature = inspect.signature(kind)
    try:
        signature.bind(**settings)
    except TypeError as error:
        raise TypeError(f"ImageAugmenter: {kind.__name__} settings {settings!r} do not fit ({error}); its settings "
                        f"are {', '.join(signature.parameters)}") from None
    return kind(**settings)


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
