"""Image kernels: decoding, geometry (ROIs, resize, padding, rescale), `ImagePipeline` and `tile2d`."""
from .decode import ImageDecodeError, decode_image
from .geometry import ImageGeometry
from .pipeline import ImagePipeline
from .tile import tile2d

__all__ = ["ImageDecodeError", "ImageGeometry", "ImagePipeline", "decode_image", "tile2d"]
