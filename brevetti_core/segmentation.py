"""`SegmentationLoader`: platform annotation JSON to per-class masks aligned with the image.

The annotation file holds ``{"annotations": [{"label", "type", "points": [{"x", "y"}, ...]}, ...]}``
with types polygon, rectangle, point and line. Shapes are drawn with Pillow at the image's upright
size (after its EXIF orientation, the image browser-based annotation tools show), with coordinates
floored (the annotation tool references a pixel by its top-left corner), and the masks then take
the image's ROI/resize/padding geometry with nearest interpolation.

Pillow draws with C ints: a coordinate beyond about 2**31 silently gives an empty mask. Shapes that
reach further than one image size beyond the image are therefore clipped to that margin first
(polygons exactly, lines segment by segment, points outside the image dropped); the pixels inside
the image stay those of the whole shape. A coordinate that is not a finite number is an error.
"""
from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeGuard

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw

from .actions import Action, Sample
from .image.geometry import ImageGeometry

if TYPE_CHECKING:
    from .io_tools import IoTools

ANNOTATION_TYPES = ("polygon", "rectangle", "point", "line")

Point = tuple[float, float]
Box = tuple[float, float, float, float]  # x0, y0, x1, y1


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

    def load(self, sample: Mapping[str, Any],
             geometry: ImageGeometry | None = None) -> np.ndarray | tuple[np.ndarray, ...]:
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
    for number, annotation in enumerate(annotations, start=1):
        classes = label_space.get(str(annotation.get("label", "")), ())
        if not classes:
            continue
        kind = annotation.get("type")
        shape = f"annotation file {path!r}: annotation {number} ({annotation.get('label')!r} {kind})"
        if kind not in ANNOTATION_TYPES:
            raise ValueError(f"{shape}: type {kind!r} is not one of {list(ANNOTATION_TYPES)}")
        points = _points(annotation, shape)
        for index in ([0] if sparse else classes):
            if index not in canvases:
                canvases[index] = Image.new("I" if sparse else "L", (width, height), 0)
            ink = classes[0] if sparse else 1
            _draw(ImageDraw.Draw(canvases[index]), kind, points, ink, size)
    mask = np.zeros((height, width, channels), dtype=np.float32)
    for index, canvas in canvases.items():
        mask[..., index] = np.asarray(canvas)
    return mask


def _label_space(classes: list[str], mapping: Mapping[str, Any], sparse: bool) -> dict[str, tuple[int, ...]]:
    index = {name: i for i, name in enumerate(classes)}
    space: dict[str, tuple[int, ...]] = {name: (i,) for name, i in index.items()}
    for label, target in mapping.items():
        names = target.split("|") if isinstance(target, str) else [str(n) for n in target]
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


def _points(annotation: Mapping[str, Any], shape: str) -> list[Point]:
    """The (x, y) points of an annotation as finite floats; `shape` names it in errors.

    Coordinates must be JSON numbers: a string such as "3" or a boolean is refused rather than guessed at.
    """
    points = annotation.get("points")
    if not isinstance(points, list) or not points:
        raise ValueError(f"{shape} needs 'points': [{{'x': ..., 'y': ...}}, ...] (at least one), got {points!r}")
    result = []
    for point in points:
        x, y = (point.get("x"), point.get("y")) if isinstance(point, Mapping) else ("", "")
        if not _is_number(x) or not _is_number(y):
            raise ValueError(f"{shape}: point {point!r} needs numbers 'x' and 'y'")
        x, y = float(x), float(y)
        if not (math.isfinite(x) and math.isfinite(y)):
            raise ValueError(f"{shape}: point x={x}, y={y} is not a finite number")
        result.append((x, y))
    return result


def _is_number(value: Any) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _draw(draw: ImageDraw.ImageDraw, kind: str, points: list[Point], ink: int, size: tuple[int, int]) -> None:
    if not points:
        return
    height, width = size
    box = (-width, -height, 2 * width, 2 * height)  # one image size of margin: Pillow's ints never overflow
    if kind == "rectangle":
        xs, ys = [math.floor(p[0]) for p in points], [math.floor(p[1]) for p in points]
        # Clamped to one pixel beyond each edge, an axis-aligned rectangle keeps every pixel it had inside.
        left, right = (min(max(v, -1), width) for v in (min(xs), max(xs)))
        top, bottom = (min(max(v, -1), height) for v in (min(ys), max(ys)))
        draw.rectangle([left, top, right, bottom], fill=ink, outline=ink)
    elif kind == "point" or len(points) == 1:
        inside = [p for p in _floored(points) if 0 <= p[0] < width and 0 <= p[1] < height]
        if inside:
            draw.point(inside, fill=ink)
    elif all(_within(p, box) for p in points):  # the common case, drawn exactly as annotated
        if kind == "polygon" and len(points) >= 3:
            draw.polygon(_floored(points), fill=ink, outline=ink)
        else:  # lines, and polygons too thin to have an inside
            draw.line(_floored(points), fill=ink, width=1)
    elif kind == "polygon" and len(points) >= 3:
        clipped = clip_polygon(points, box)
        if clipped:
            draw.polygon(_floored(clipped), fill=ink, outline=ink)
    else:
        for start, end in itertools.pairwise(points):
            segment = clip_segment(start, end, box)
            if segment:
                draw.line(_floored(segment), fill=ink, width=1)


def clip_polygon(points: Sequence[Point], box: Box) -> list[Point]:
    """`points` (a polygon) clipped to `box` (x0, y0, x1, y1) by Sutherland-Hodgman; [] if nothing is left."""
    polygon = list(points)
    for edge in _edges(box):
        clipped: list[Point] = []
        for previous, current in zip(polygon[-1:] + polygon[:-1], polygon):
            if _inside(current, *edge) != _inside(previous, *edge):
                clipped.append(_crossing(previous, current, *edge))
            if _inside(current, *edge):
                clipped.append(current)
        polygon = clipped
    return polygon if len(polygon) >= 3 else []


def clip_segment(start: Point, end: Point, box: Box) -> list[Point]:
    """The part of segment `start`-`end` inside `box` (x0, y0, x1, y1); [] if none.

    Each box edge moves an endpoint beyond it onto it, interpolating in coordinates rather than
    along the segment, so a line 1e300 long still lands on the right row.
    """
    for edge in _edges(box):
        start_in, end_in = _inside(start, *edge), _inside(end, *edge)
        if not (start_in or end_in):
            return []
        if not start_in:
            start = _crossing(start, end, *edge)
        elif not end_in:
            end = _crossing(start, end, *edge)
    return [start, end]


def _edges(box: Box) -> list[tuple[int, float, bool]]:
    """The half-planes of `box` as (axis, bound, bound is an upper one)."""
    x0, y0, x1, y1 = box
    return [(0, x0, False), (0, x1, True), (1, y0, False), (1, y1, True)]


def _inside(point: Point, axis: int, bound: float, upper: bool) -> bool:
    return point[axis] <= bound if upper else point[axis] >= bound


def _crossing(p: Point, q: Point, axis: int, bound: float, upper: bool) -> Point:
    """Where segment p-q crosses the line `axis` = `bound` (the edge's side, `upper`, does not matter)."""
    t = (bound - p[axis]) / (q[axis] - p[axis])
    other = p[1 - axis] + t * (q[1 - axis] - p[1 - axis])
    return (bound, other) if axis == 0 else (other, bound)


def _within(point: Point, box: Box) -> bool:
    return box[0] <= point[0] <= box[2] and box[1] <= point[1] <= box[3]


def _floored(points: Sequence[Point]) -> list[tuple[int, int]]:
    return [(math.floor(x), math.floor(y)) for x, y in points]
