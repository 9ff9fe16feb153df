"""`ImagePipeline`: load an image file and bring it to the model's input geometry (reference §6.1)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..actions import Action, Sample
from .decode import DEFAULT_MAX_PIXELS, DecodeOptions, check_color_mode, open_image
from .geometry import RESIZE_METHODS, ImageGeometry, fitted_size, parse_choice, parse_rescale, rescale

if TYPE_CHECKING:
    from ..io_tools import IoTools
    from ..segmentation import SegmentationLoader


class ImagePipeline(Action):
    """Reads ``sample[path_key]``, decodes it and writes an HWC float32 array to ``sample[output_key]``.

    Steps: decode in `color_mode`, crop `rois` (``((x1, y1), (x2, y2))``, exclusive ends) and combine
    them per `roi_mode`, resize to `target_size` (height, width), pad to it with `padding_mode`,
    then rescale. 8-bit files go through these steps as uint8 levels where that is exact or rounds
    to the nearest level (antialiased resizes use Pillow's 8-bit kernels, rounding after each of
    their two passes); the output is float32. ``sample["_image_file_shape"]`` records the decoded
    file's (H, W, C), upright. With a `segmentation` loader its masks are rasterised at that size
    and put through the same geometry (nearest). The pipeline draws no random numbers: its output
    is a pure function of the file bytes and its settings, the decoding ones included
    (`allow_truncated`, `max_pixels`, `exif_orientation`; see `DecodeOptions`), which travel with
    it into every worker process.
    """

    plan_prefix = "image"

    def __init__(self, target_size: Sequence[int] | None = None, rois: Any = None,
                 roi_mode: str | None = "concatenate_height", path_key: str = "path", output_key: str = "img",
                 color_mode: str = "rgb", segmentation: SegmentationLoader | None = None,
                 keep_aspect_ratio: bool = False, rescale: str | Mapping[str, float] | None = None,
                 resize_method: str = "bilinear", antialias: bool = False, padding_mode: str = "CONSTANT",
                 center_padding: bool = False, allow_truncated: bool = False,
                 max_pixels: int | None = DEFAULT_MAX_PIXELS, exif_orientation: bool = True, io: IoTools | None = None):
        self.geometry = ImageGeometry(rois=rois, roi_mode=roi_mode,
                                      target_size=target_size,  # type: ignore[arg-type]  # ImageGeometry checks it
                                      keep_aspect_ratio=bool(keep_aspect_ratio), padding_mode=padding_mode,
                                      center_padding=bool(center_padding))
        self.channels = check_color_mode(color_mode)
        self.color_mode = color_mode
        self.rescale = parse_rescale(rescale)
        self.resize_method = parse_choice("resize_method", resize_method, RESIZE_METHODS)
        self.antialias = bool(antialias)
        self.path_key, self.output_key = path_key, output_key
        self.segmentation = segmentation
        self.decode_options = DecodeOptions(allow_truncated=bool(allow_truncated), max_pixels=max_pixels,
                                            exif_orientation=bool(exif_orientation))
        self._io = io

    @property
    def target_size(self) -> tuple[int, int] | None:
        return self.geometry.target_size

    @property
    def rois(self) -> tuple[tuple[int, int, int, int], ...] | None:
        """The ROIs as (x1, y1, x2, y2) tuples."""
        return self.geometry.rois

    @property
    def io(self) -> IoTools:
        if self._io is None:
            from ..io_tools import io_tools
            return io_tools
        return self._io

    @property
    def output_shape(self) -> tuple:
        """Static shape of the output: (H, W, C) with None where it depends on the file."""
        return self.geometry.output_shape(self.channels)

    def __call__(self, sample: Sample, params: Mapping[str, Any] | None = None) -> Sample:
        path = _path(sample, self.path_key)
        with open_image(self.io.read_file(path), path, self.decode_options) as source:
            shape = source.shape(self.color_mode)
            # Shrinking while decoding is only a faithful start for filtered (antialiased/area) downscales.
            shrink = self.geometry.whole_image_resize and (self.antialias or self.resize_method == "area")
            target = self.target_size
            min_size = fitted_size(shape[:2], target, self.geometry.keep_aspect_ratio) if shrink and target else None
            pixels = source.decode(self.color_mode, min_size, levels=True)
        output = self.geometry.apply(pixels, self.resize_method, self.antialias, source_hw=shape[:2])
        output = tuple(self._finish(o) for o in output) if isinstance(output, tuple) else self._finish(output)
        result = dict(sample)
        result["_image_file_shape"] = np.array(shape, dtype=np.int32)
        result[self.output_key] = output
        if self.segmentation is not None:
            result[self.segmentation.output_key] = self.segmentation.load(result, self.geometry)
        return result

    def _finish(self, image: np.ndarray) -> np.ndarray:
        """Geometry's result (uint8 levels of an 8-bit file, or float32) as float32, rescaled."""
        image = image.astype(np.float32, copy=False)
        return image if self.rescale is None else rescale(image, *self.rescale)

    def describe(self) -> str:
        return f"ImagePipeline(target_size={self.target_size}, rois={self.rois}, color_mode={self.color_mode!r})"


def _path(sample: Mapping[str, Any], key: str) -> str:
    if key not in sample:
        raise KeyError(f"ImagePipeline: the sample has no {key!r} (it has {sorted(sample)}); set path_key")
    path = sample[key]
    if not isinstance(path, str):
        path = path.decode() if isinstance(path, bytes) else str(path)
    if not path:
        raise ValueError(f"ImagePipeline: the sample's {key!r} is empty")
    return path
