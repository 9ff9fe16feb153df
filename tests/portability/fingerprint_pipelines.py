"""Fingerprint every pipeline and augmentation kernel, sample by sample: the portability tests' worker.

Run as ``python fingerprint_pipelines.py PHOTOS VIALS OUT.json`` in a process whose CPU dispatch
the caller restricted through its environment (OpenBLAS core type, numpy's SIMD targets, glibc's
hwcaps, libjpeg-turbo's SIMD). It writes one short digest per sample-epoch of each pipeline (the
image, masks and one-hot labels of that sample in its batch) and one per computed item of the
kernels that derive floats from random parameters (affine and colour matrices, Gaussian taps,
pixel noise), plus what the process's dispatch really was. Comparing two such files says which
samples differ, not just that something did. It imports only brevetti_core and the stdlib, so the
restricted process loads nothing the batches do not need.
"""
from __future__ import annotations

import ctypes
import glob
import hashlib
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import PIL

import brevetti_core as core
from brevetti_core.augment.augmenter import ImageAugmenter
from brevetti_core.augment.deformation import ImageDeformation, displacement
from brevetti_core.augment.filtering import ImageFiltering, gaussian_kernel
from brevetti_core.augment.noise import ImageNoise, add_gaussian_noise, color_matrix
from brevetti_core.augment.transform import RandomTransformer, affine_matrix
from brevetti_core.dataset import Dataset
from brevetti_core.rng import ParamStreams

#: Epochs of the default augmenter over the 12 small photos: 9,600 sample-epochs, so an event of 1 sample
#: in 3,000 shows up about three times.
DEFAULT_AUGMENTER_EPOCHS = 800
#: Slots whose affine and colour matrices are computed from the parts' own parameter draws.
MATRIX_SLOTS = 50_000
SMALL = (24, 32)
LARGE = (88, 104)
FINGERPRINTED = ("img", "segmentation", "onehot")


def pipelines(photos: Any, vials: Any) -> dict[str, Callable[[], Any]]:
    """Name -> a generator factory; each yields batches through `get_dataset_numpy(structure=None)`."""
    def build(samples, epochs: int = 1, seed: int = 1, augmentation=None, batch_size: int = 8, **image: Any):
        return lambda: core.build_image_data_generator(samples, batch_size=batch_size, shuffle=True, repeat=epochs,
                                                      seed=seed, image={"target_size": SMALL, **image},
                                                      augmentation=augmentation)

    small = photos[~photos["path"].str.contains(r"large[^/]*$")].reset_index(drop=True)
    every = ImageAugmenter(random_transformer=RandomTransformer(chance=1.0, rotate_chance=1.0),
                           image_noise=ImageNoise(chance=1.0), image_filter=ImageFiltering(chance=1.0),
                           image_deformation=ImageDeformation(alpha=3.0, sigma=2.0, chance=1.0))
    found = {
        "no_augmentation": build(photos),
        # Large batches: fewer per-batch plans, so the many epochs stay cheap.
        "default_augmenter": build(small, DEFAULT_AUGMENTER_EPOCHS, seed=2, augmentation={}, batch_size=48,
                                   antialias=True, rescale="imagenet"),
        "every_augmentation_forced": build(photos, 20, seed=3, augmentation=every, rescale="unit"),
        "every_augmentation_bicubic_upscaled": build(photos, 2, seed=4, resize_method="bicubic", target_size=LARGE,
                                                     augmentation={"random_transformer": {
                                                         "chance": 1.0, "rotate_chance": 1.0,
                                                         "interpolation": "bicubic"}}),
        "greyscale_default_augmenter": build(photos, 20, seed=5, augmentation={}, color_mode="greyscale",
                                             rescale="imagenet"),
        "masks_every_augmentation_forced": lambda: masks(vials, every),
        "rescale_custom_keep_aspect_reflect": build(photos, rescale={"scale": 0.0123, "offset": -0.77},
                                                    keep_aspect_ratio=True, padding_mode="REFLECT",
                                                    center_padding=True),
    }
    for method in ("bilinear", "bicubic", "nearest", "area"):
        for antialias in (False, True):
            found[f"resize_{method}{'_antialias' if antialias else ''}"] = build(
                photos, resize_method=method, antialias=antialias, rescale="imagenet")
        found[f"resize_{method}_upscale"] = build(photos, resize_method=method, target_size=LARGE)
    return found


def masks(vials: Any, augmenter: ImageAugmenter) -> Any:
    """Images and segmentation masks from annotated vials, every augmentation on, over 10 epochs."""
    loader = core.SegmentationLoader(["vial", "cap"])
    generator = core.DataGenerator(vials, batch_size=6, shuffle=True, repeat=10, seed=6,
                                   output_structure=("img", "segmentation"))
    return generator.map(core.ImagePipeline(target_size=SMALL, antialias=True, segmentation=loader)).map(augmenter)


def sample_digests(generator: Any) -> Iterator[str]:
    """One digest per sample of every batch: its image(s), masks and one-hot labels, in batch order."""
    for batch in generator.get_dataset_numpy(structure=None):
        values = [batch[key] for key in FINGERPRINTED if key in batch]
        arrays = [a for v in values for a in (v if isinstance(v, tuple) else (v,))]
        for i in range(len(arrays[0])):
            yield digest(*(np.ascontiguousarray(a[i]) for a in arrays))


def kernels() -> dict[str, list[str]]:
    """Digests of everything the augmentation parts derive from random parameters before touching pixels."""
    streams = ParamStreams(seed=11, stream=1000, epoch=0)
    geometry = RandomTransformer(chance=1.0, rotate_chance=1.0).sample_params(streams, MATRIX_SLOTS)
    colour = ImageNoise().sample_params(streams, MATRIX_SLOTS)
    return {
        "affine_matrix": [digest(affine_matrix({k: v[i] for k, v in geometry.items()}, SMALL))
                          for i in range(MATRIX_SLOTS)],
        "color_matrix": [digest(np.asarray(color_matrix(float(s), float(h)), dtype=np.float32))
                         for s, h in zip(colour["saturation"], colour["hue"])],
        "gaussian_kernel": [digest(gaussian_kernel(sigma)) for sigma in np.linspace(0.05, 6.0, 400)],
        "gaussian_noise": [digest(add_gaussian_noise(np.zeros((64, 64, 3), np.float32), 1.0, seed))
                           for seed in range(400)],
        "displacement": [digest(*displacement((48, 40), 3.0, 2.0, seed)) for seed in range(200)],
    }


def dispatch() -> dict[str, Any]:
    """What this process's maths really dispatched to: OpenBLAS core, numpy SIMD targets, library versions."""
    from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__

    libraries = glob.glob(os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs", "*openblas*.so*"))
    corename = None
    if libraries:
        function = ctypes.CDLL(libraries[0]).scipy_openblas_get_corename64_
        function.restype = ctypes.c_char_p
        corename = function().decode()
    return {"openblas_core": corename, "numpy_targets": [t for t in __cpu_dispatch__ if __cpu_features__.get(t)],
            "numpy": np.__version__, "pillow": PIL.__version__}


def digest(*arrays: np.ndarray) -> str:
    """A 64-bit digest of the arrays' dtypes, shapes and bytes."""
    h = hashlib.blake2b(digest_size=8)
    for array in arrays:
        h.update(f"{array.dtype.str}{array.shape}".encode())
        h.update(np.ascontiguousarray(array).tobytes())
    return h.hexdigest()


def main(photos_root: str, vials_root: str, out: str) -> None:
    photos = Dataset(bucket=photos_root).get_image_samples()
    vials = Dataset(bucket=vials_root).get_image_samples(annotations=True)
    result = {"pipelines": {name: list(sample_digests(factory()))
                            for name, factory in pipelines(photos, vials).items()},
              "kernels": kernels(), "dispatch": dispatch()}
    Path(out).write_text(json.dumps(result))


if __name__ == "__main__":
    main(*sys.argv[1:])
