"""A synthetic vial-inspection dataset in the platform layout, generated deterministically (numpy + Pillow).

Three classes of capped glass vials, photographed several times each:

- ``good/``: cap seated straight on the neck;
- ``missing_cap/``: no cap, the open neck and its lip are visible;
- ``failed_cap/``: cap tilted off the neck, or broken (half of it missing);

plus ``unknown/`` holding one under-exposed shot. Files are 24-bit BMPs named
``<item>_<timestamp>.bmp``: the item id is the physical vial (same geometry, cap colour and
fill level in every shot); each shot varies position, scale, lighting and sensor noise. A
few files are byte-identical copies under a later timestamp, as happens when an image is
uploaded twice. With ``annotations=True`` some images get a platform annotation file
``.annotations/<class>/<file>/<timestamp>.json`` with polygons labelled ``vial`` and ``cap``.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

CLASSES = ("good", "missing_cap", "failed_cap")
UNKNOWN = "unknown"
FIRST_TIMESTAMP = 1543413266626
ANNOTATION_TIMESTAMP = 1651574629796
CAP_COLOURS = ((225, 50, 50), (70, 120, 235), (240, 150, 40), (175, 95, 225), (70, 195, 100))
ANNOTATED_ITEMS_PER_CLASS = 2


def generate_vials(root: str | Path, *, items_per_class: int = 20, shots_per_item: int = 3, duplicates: int = 3,
                   size: int = 224, seed: int = 0, annotations: bool = True) -> Path:
    """Write the dataset under `root` (created) and return `root` as a Path; same arguments, same bytes."""
    if items_per_class < 1 or shots_per_item < 1 or size < 32 or duplicates < 0:
        raise ValueError("generate_vials needs items_per_class >= 1, shots_per_item >= 1, size >= 32, duplicates >= 0")
    root = Path(root)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0]))
    timestamp = FIRST_TIMESTAMP
    first_shots: list[Path] = []
    for class_index, label in enumerate(CLASSES):
        for k in range(items_per_class):
            item = class_index * items_per_class + k
            vial = _vial(seed, item, label)
            for shot in range(shots_per_item):
                timestamp += int(rng.integers(800, 5000))
                path = root / label / f"{item}_{timestamp}.bmp"
                polygons = _write_shot(path, vial, _shot(seed, item, shot), size)
                if shot == 0:
                    first_shots.append(path)
                if annotations and shot == 0 and k < ANNOTATED_ITEMS_PER_CLASS:
                    _write_annotation(root, path, polygons, size)
    item = len(CLASSES) * items_per_class
    timestamp += int(rng.integers(800, 5000))
    dark = {**_shot(seed, item, 0), "gain": 0.25}
    _write_shot(root / UNKNOWN / f"{item}_{timestamp}.bmp", _vial(seed, item, "good"), dark, size)

    for source in rng.choice(len(first_shots), size=min(duplicates, len(first_shots)), replace=False):
        original = first_shots[int(source)]
        timestamp += int(rng.integers(800, 5000))
        shutil.copyfile(original, original.with_name(f"{original.stem.split('_')[0]}_{timestamp}.bmp"))
    return root


def _vial(seed: int, item: int, label: str) -> dict:
    """The fixed geometry of one physical vial (fractions of the image size)."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 1, item]))
    vial = {
        "label": label,
        "body_width": rng.uniform(0.30, 0.38),
        "body_top": rng.uniform(0.42, 0.47),
        "neck_width": rng.uniform(0.15, 0.19),
        "neck_top": rng.uniform(0.27, 0.31),
        "fill": rng.uniform(0.55, 0.85),
        # Colours cycle with the item id so every class has every colour: colour is no shortcut to the class.
        "cap_colour": CAP_COLOURS[item % len(CAP_COLOURS)],
        "cap_height": rng.uniform(0.10, 0.13),
        "tilt": 0.0,
        "cap_shift": (0.0, 0.0),
        "broken": False,
    }
    if label == "failed_cap":
        vial["tilt"] = float(rng.choice([-1, 1]) * rng.uniform(30, 60))
        vial["cap_shift"] = (float(rng.choice([-1, 1]) * rng.uniform(0.02, 0.05)), float(rng.uniform(-0.04, -0.01)))
        vial["broken"] = bool(rng.random() < 0.35)
    return vial


def _shot(seed: int, item: int, shot: int) -> dict:
    """The nuisance of one photograph: position, scale, lighting and noise."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 2, item, shot]))
    return {
        "dx": rng.uniform(-0.06, 0.06), "dy": rng.uniform(-0.04, 0.04), "scale": rng.uniform(0.92, 1.06),
        "gain": rng.uniform(0.75, 1.2), "gradient": rng.uniform(-0.25, 0.25, size=2),
        "background": rng.uniform(35, 70), "noise": rng.uniform(2.0, 6.0), "noise_seed": int(rng.integers(2**63)),
    }


def _write_shot(path: Path, vial: dict, shot: dict, size: int) -> dict[str, list[tuple[float, float]]]:
    """Render one BMP; returns the drawn polygons (pixel coordinates) by label."""
    image = Image.new("RGB", (size, size), (0, 0, 0))
    draw = ImageDraw.Draw(image)
    s = size * shot["scale"]
    cx, base = size * (0.5 + shot["dx"]), size * (0.5 + shot["dy"])

    def xy(x: float, y: float) -> tuple[float, float]:
        return cx + x * s, base + (y - 0.5) * s

    half_body, half_neck = vial["body_width"] / 2, vial["neck_width"] / 2
    body = [xy(-half_body, vial["body_top"]), xy(half_body, vial["body_top"]), xy(half_body, 0.93),
            xy(-half_body, 0.93)]
    shoulder = [xy(-half_neck, vial["body_top"] - 0.06), xy(half_neck, vial["body_top"] - 0.06),
                xy(half_body, vial["body_top"]), xy(-half_body, vial["body_top"])]
    neck = [xy(-half_neck, vial["neck_top"]), xy(half_neck, vial["neck_top"]),
            xy(half_neck, vial["body_top"] - 0.06), xy(-half_neck, vial["body_top"] - 0.06)]
    glass = (175, 190, 205)
    draw.polygon(body, fill=glass)
    draw.polygon(shoulder, fill=glass)
    draw.polygon(neck, fill=glass)
    liquid_top = 0.93 - (0.93 - vial["body_top"]) * vial["fill"]
    draw.rectangle([xy(-half_body + 0.015, liquid_top), xy(half_body - 0.015, 0.915)], fill=(120, 160, 190))
    draw.rectangle([xy(-half_body + 0.04, vial["body_top"] + 0.02), xy(-half_body + 0.07, 0.9)], fill=(235, 240, 245))
    lip = [xy(-half_neck - 0.015, vial["neck_top"]), xy(half_neck + 0.015, vial["neck_top"] + 0.03)]
    draw.rectangle(lip, fill=(200, 210, 220))
    polygons = {"vial": [*neck[:2], *shoulder[1:3], *body[2:], shoulder[3], shoulder[0]]}

    if vial["label"] == "missing_cap":
        draw.ellipse([xy(-half_neck + 0.01, vial["neck_top"] - 0.012), xy(half_neck - 0.01, vial["neck_top"] + 0.012)],
                     fill=(25, 25, 30))
    else:
        polygons["cap"] = _draw_cap(draw, vial, xy, half_neck)

    pixels = np.asarray(image, dtype=np.float64)
    background = np.all(pixels == 0, axis=-1)
    pixels[background] = shot["background"]
    ramp = np.linspace(-1.0, 1.0, size)
    light = shot["gain"] * (1.0 + shot["gradient"][0] * ramp[None, :] + shot["gradient"][1] * ramp[:, None])
    noise = np.random.default_rng(shot["noise_seed"]).normal(0.0, shot["noise"], pixels.shape)
    pixels = np.clip(pixels * light[..., None] + noise, 0, 255).round().astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels, "RGB").save(path, format="BMP")
    return polygons


def _draw_cap(draw: ImageDraw.ImageDraw, vial: dict, xy, half_neck: float) -> list[tuple[float, float]]:
    """Draw the (possibly tilted, shifted or broken) cap over the neck; returns its polygon."""
    half_cap, height = half_neck + 0.035, vial["cap_height"]
    top = vial["neck_top"] - 0.02
    corners = np.array([[-half_cap, top - height * 0.35], [half_cap, top - height * 0.35],
                        [half_cap, top + height * 0.65], [-half_cap, top + height * 0.65]])
    if vial["broken"]:
        corners[1:3, 0] = 0.0
    angle = np.deg2rad(vial["tilt"])
    pivot = np.array([0.0, top])
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    corners = (corners - pivot) @ rotation.T + pivot + np.array(vial["cap_shift"])
    polygon = [xy(x, y) for x, y in corners]
    draw.polygon(polygon, fill=vial["cap_colour"])
    return polygon


def _write_annotation(root: Path, image_path: Path, polygons: dict, size: int) -> None:
    relative = image_path.relative_to(root).as_posix()
    colours = {"vial": "#00ff00", "cap": "#ff0000"}
    document = {
        "annotations": [
            {"label": label, "type": "polygon", "color": colours[label],
             "points": [{"x": round(float(x), 2), "y": round(float(y), 2)} for x, y in points]}
            for label, points in polygons.items()
        ],
        "image": {"height": size, "width": size},
    }
    target = root / ".annotations" / relative / f"{ANNOTATION_TIMESTAMP + int(image_path.stem.split('_')[0])}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(document, indent=2))
