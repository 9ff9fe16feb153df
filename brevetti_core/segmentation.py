"""`SegmentationLoader`: platform annotation JSON to per-class masks aligned with the image.

The annotation file holds ``{"annotations": [{"label", "type", "points": [{"x", "y"}, ...]}, ...]}``
with types polygon, rectangle, point and line. Shapes are drawn with Pillow at the image file's
size, with coordinates floored (the annotation tool references a pixel by its top-left corner), and
the masks then take the image's ROI/resize/padding geometry with nearest interpolation.
"""
from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw

from .actions import Action, Sample
from .image.geometry import ImageGeometry

if TYPE_CHECKING:
    from .io_tools import IoTools

ANNOTATION_TYPES = ("polygon", "rectangle", "point", "line")


class SegmentationLoader(Action):
    """Writes ``sample[output_key]``: (H, W, len(classes)) float32 masks, or (H, W, 1) class indices if `sparse`.

    An annotation label selects the classes it is drawn into: a class of the same name, or the
    classes its `mapping` entry names (``"A|B"`` or ``["A", "B"]`` draws into both). Labels that
    select no class are ignored. Sparse masks hold the class index, so 0 doubles as background:
    list the background class first. An empty ``sample[input_key]`` gives an all-zero mask.
    Mapped after `ImagePipeline`, it follows `geometry`; inside ``ImagePipeline(segmentation=...)``
    it follows the pipeline's.
    """

    plan_prefix = "segmentation"

    def __init__(self, classes: Iterable[str], mapping: Mapping[str, str | Sequence[str]] | None = None,
                 sparse: bool = False, input_key: str = "annotation_path", output_key: str = "segmentation",
                 io: IoTools | None = None, geometry: ImageGeometry | None = None):
        self.classes = [str(c) for c in classes]
        if not self.classes:
            raise ValueError("SegmentationLoader: classes must name at least one class")
        duplicates = sorted({c for c in self.classes if self.classes.count(c) > 1})
        if duplicates:
            raise ValueError(f"SegmentationLoader: classes must be unique, {duplicates} appear more than once")
        self.sparse = bool(sparse)
        self.label_space = _label_space(self.classes, mapping or {}, self.sparse)
        self.input_key, self.output_key = input_key, output_key
        self.geometry = geometry
        self._io = io

    @property
    def channels(self) -> int:
        return 1 if self.sparse else len(self.classes)

    @property
    def io(self) -> IoTools:
        if self._io is None:
            from .io_tools import io_tools
            return io_tools
        return self._io

    def __call__(self, sample: Sample, params: Mapping[str, Any] | None = None) -> Sample:
        result = dict(sample)
        result[self.output_key] = self.load(sample, self.geometry)
        return result

    def load(self, sample: Mapping[str, Any], geometry: ImageGeometry | None = None) -> np.ndarray:
        """The sample's masks at its image's size (``_image_file_shape``), put through `geometry`."""
        if "_image_file_shape" not in sample:
            raise KeyError("SegmentationLoader needs '_image_file_shape': map it after ImagePipeline "
                           "or pass it as ImagePipeline(segmentation=...)")
        height, width = (int(v) for v in sample["_image_file_shape"][:2])
        path = _annotation_path(sample.get(self.input_key))
        annotations = self.read_annotations(path) if path else []
        mask = rasterise(annotations, (height, width), self.label_space, self.channels, self.sparse, path)
        if geometry is None:
            return mask
        return geometry.apply(mask, method="nearest")

    def read_annotations(self, path: str) -> list[dict]:
        """The annotation list of the platform annotation file at `path`."""
        try:
            document = json.loads(self.io.read_file(path))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ValueError(f"annotation file {path!r} is not valid JSON: {error}") from None
        annotations = document.get("annotations", []) if isinstance(document, dict) else None
        if not isinstance(annotations, list):
            raise ValueError(f"annotation file {path!r} must hold {{'annotations': [...]}}")
        return annotations


def rasterise(annotations: Sequence[Mapping[str, Any]], size: tuple[int, int],
              label_space: Mapping[str, tuple[int, ...]], channels: int, sparse: bool,
              path: str = "<annotations>") -> np.ndarray:
    """(H, W, channels) float32 masks of `annotations` drawn at `size` (height, width)."""
    height, width = size
    canvases: dict[int, Image.Image] = {}
    for annotation in annotations:
        classes = label_space.get(str(annotation.get("label", "")), ())
        if not classes:
            continue
        kind = annotation.get("type")
        if kind not in ANNOTATION_TYPES:
            raise ValueError(f"annotation file {path!r}: annotation type {kind!r} is not one of {list(ANNOTATION_TYPES)}")
        points = _points(annotation, path)
        for index in ([0] if sparse else classes):
            if index not in canvases:
                canvases[index] = Image.new("I" if sparse else "L", (width, height), 0)
            ink = classes[0] if sparse else 1
            _draw(ImageDraw.Draw(canvases[index]), kind, points, ink)
    mask = np.zeros((height, width, channels), dtype=np.float32)
    for index, canvas in canvases.items():
        mask[..., index] = np.asarray(canvas)
    return mask


def _label_space(classes: list[str], mapping: Mapping[str, Any], sparse: bool) -> dict[str, tuple[int, ...]]:
    index = {name: i for i, name in enumerate(classes)}
    space = {name: (i,) for name, i in index.items()}
    for label, target in mapping.items():
        names = [n for n in target.split("|")] if isinstance(target, str) else [str(n) for n in target]
        names = [n.strip() for n in names if n.strip()]
        unknown = [n for n in names if n not in index]
        if unknown:
            raise ValueError(f"SegmentationLoader: mapping {label!r} -> {target!r} names {unknown}, "
                             f"which are not in classes {classes}")
        if sparse and len(names) > 1:
            raise ValueError(f"SegmentationLoader: sparse masks hold one class per pixel, but mapping "
                             f"{label!r} -> {target!r} names {len(names)}")
        space[str(label)] = tuple(sorted({index[n] for n in names}))
    return space


def _annotation_path(value: Any) -> str:
    if value is None or (np.ndim(value) == 0 and not isinstance(value, (str, bytes)) and pd.isna(value)):
        return ""
    return value.decode() if isinstance(value, bytes) else str(value)


def _points(annotation: Mapping[str, Any], path: str) -> list[tuple[int, int]]:
    try:
        return [(math.floor(float(p["x"])), math.floor(float(p["y"]))) for p in annotation["points"]]
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"annotation file {path!r}: annotation {annotation.get('label')!r} needs "
                         f"'points': [{{'x': ..., 'y': ...}}, ...]") from None


def _draw(draw: ImageDraw.ImageDraw, kind: str, points: list[tuple[int, int]], ink: int) -> None:
    if not points:
        return
    if kind == "rectangle":
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        draw.rectangle([min(xs), min(ys), max(xs), max(ys)], fill=ink, outline=ink)
    elif kind == "polygon" and len(points) >= 3:
        draw.polygon(points, fill=ink, outline=ink)
    elif kind == "point" or len(points) == 1:
        draw.point(points, fill=ink)
    else:  # lines, and polygons too thin to have an inside
        draw.line(points, fill=ink, width=1)
