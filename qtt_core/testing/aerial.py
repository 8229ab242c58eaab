"""A generated aerial-style set with colour-coded masks: five classes on a clutter background.

The masks are RGB PNGs in the colour code of the ISPRS Potsdam/Vaihingen benchmarks
(impervious surfaces white, building blue, low vegetation cyan, tree green, car yellow,
clutter red as background) with a classes file naming them, as users of such sets have them.
Scenes: roads crossing the tile, rectangular buildings with shadowed roofs, vegetation
patches, round tree crowns and small cars on the roads, each class with its own textured
colour, plus noise.

    python -m qtt_core.testing.aerial OUT [--train 40 --val 10 --test 10 --size 256 --seed 0]

It stands in, in tests and measurements, for aerial sets such as Potsdam that cannot be
shipped or downloaded here; it is not a substitute for measuring on them.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

__all__ = ["BACKGROUND", "CLASSES", "scene", "write_aerial_set"]

#: class name -> colour in the masks (Potsdam's code); clutter is the background
CLASSES = {
    "impervious": (255, 255, 255),
    "building": (0, 0, 255),
    "low_vegetation": (0, 255, 255),
    "tree": (0, 255, 0),
    "car": (255, 255, 0),
}
BACKGROUND = (255, 0, 0)
#: mean image colour of each label (0: clutter, then the classes in order)
_LOOK = [(150, 120, 90), (128, 128, 124), (170, 80, 60), (120, 160, 80), (40, 90, 40), (60, 60, 200)]


def scene(rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
    """One ``size x size x 3`` uint8 image and its ``size x size`` label map (0 clutter, 1..5 classes)."""
    canvas = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(canvas)
    for _ in range(int(rng.integers(2, 5))):  # low vegetation patches
        x, y = rng.uniform(0, size, 2)
        r = rng.uniform(0.1, 0.3) * size
        draw.ellipse([x - r, y - r * 0.7, x + r, y + r * 0.7], fill=3)
    road_width = int(rng.uniform(0.06, 0.1) * size)
    roads = []
    for horizontal in (True, False):
        if rng.random() < 0.8:
            at = int(rng.uniform(0.2, 0.8) * size)
            roads.append((horizontal, at))
            box = [0, at, size, at + road_width] if horizontal else [at, 0, at + road_width, size]
            draw.rectangle(box, fill=1)
    for _ in range(int(rng.integers(2, 6))):  # buildings
        w, h = rng.uniform(0.12, 0.3, 2) * size
        x, y = rng.uniform(0, size - w), rng.uniform(0, size - h)
        draw.rectangle([x, y, x + w, y + h], fill=2)
    for _ in range(int(rng.integers(3, 9))):  # tree crowns
        x, y = rng.uniform(0, size, 2)
        r = rng.uniform(0.03, 0.07) * size
        draw.ellipse([x - r, y - r, x + r, y + r], fill=4)
    for horizontal, at in roads:  # cars on the roads
        for _ in range(int(rng.integers(1, 4))):
            along = rng.uniform(0, size - 0.06 * size)
            long_side, short_side = 0.06 * size, 0.03 * size
            offset = at + rng.uniform(0.1, 0.6) * road_width
            box = [along, offset, along + long_side, offset + short_side] if horizontal else [offset, along, offset + short_side, along + long_side]
            draw.rectangle(box, fill=5)
    label = np.asarray(canvas, dtype=np.uint8)
    look = np.asarray(_LOOK, dtype=np.float32)[label]
    shade = rng.normal(0, 1, (size // 8, size // 8, 1)).astype(np.float32)
    shade = np.asarray(Image.fromarray(shade[..., 0]).resize((size, size), Image.BILINEAR))[..., None] * 12
    image = look * rng.uniform(0.85, 1.15, (1, 1, 3)) + shade + rng.normal(0, 14, look.shape)
    return np.clip(image, 0, 255).astype(np.uint8), label


def write_aerial_set(folder: Path, train: int = 40, val: int = 10, test: int = 10, size: int = 256, seed: int = 0) -> Path:
    """Write ``train|val|test/images/*.png``, ``.../masks/*.png`` (RGB colour code) and ``classes.json``."""
    rng = np.random.default_rng(seed)
    palette = np.asarray([BACKGROUND, *CLASSES.values()], dtype=np.uint8)
    for split, count in (("train", train), ("val", val), ("test", test)):
        (folder / split / "images").mkdir(parents=True, exist_ok=True)
        (folder / split / "masks").mkdir(parents=True, exist_ok=True)
        for index in range(count):
            image, label = scene(rng, size)
            Image.fromarray(image).save(folder / split / "images" / f"tile_{index:03d}.png")
            Image.fromarray(palette[label]).save(folder / split / "masks" / f"tile_{index:03d}.png")
    classes = {
        "classes": [{"name": name, "color": "#%02X%02X%02X" % colour} for name, colour in CLASSES.items()],
        "background": {"name": "clutter", "color": "#%02X%02X%02X" % BACKGROUND},
    }
    (folder / "classes.json").write_text(json.dumps(classes, indent=2))
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--train", type=int, default=40)
    parser.add_argument("--val", type=int, default=10)
    parser.add_argument("--test", type=int, default=10)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(write_aerial_set(args.out, args.train, args.val, args.test, args.size, args.seed))


if __name__ == "__main__":
    main()
