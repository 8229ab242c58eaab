"""Generated segmentation tasks: families of procedural scenes with known masks.

A task family is a recipe (shapes, classes, size, noise, texture) and a seed gives one
dataset of it, held in memory (:class:`InMemoryData`). They let the meta-dataset builder and
the demo run without any download.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from qtt_core.data.protocol import SPLIT_NAMES

__all__ = ["InMemoryData", "InMemorySplit", "SceneRecipe", "TASK_FAMILIES", "generate_task"]


@dataclass
class InMemorySplit:
    """Images (``N`` arrays ``H x W x 3`` uint8) and label maps (``H x W`` uint8)."""

    images: list[np.ndarray]
    masks: list[np.ndarray]
    names: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.images)

    def image(self, index: int, size: tuple[int, int] | None = None) -> np.ndarray:
        return _resize(self.images[index], size, nearest=False)

    def mask(self, index: int, size: tuple[int, int] | None = None) -> np.ndarray:
        return _resize(self.masks[index], size, nearest=True)

    def name(self, index: int) -> str:
        return self.names[index] if self.names else f"sample{index:04d}"


@dataclass
class InMemoryData:
    """A dataset held in memory, with named splits."""

    splits: dict[str, InMemorySplit]
    class_names: list[str]
    num_channels: int = 3

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def split(self, name: str) -> InMemorySplit:
        return self.splits[name]


@dataclass(frozen=True)
class SceneRecipe:
    """How the scenes of one task family look.

    Attributes:
        size: ``(H, W)`` of every image, pixels.
        num_classes: foreground classes (1 = binary).
        shapes: shape kinds drawn: "ellipse", "rectangle", "blob", "ring", "lines".
        objects: (min, max) objects per image.
        scale: (min, max) object size as a fraction of the image side.
        noise: standard deviation of the pixel noise (grey levels).
        textured: backgrounds and objects get smooth random textures.
        grey: images are grey (the three channels equal).
        contrast: mean grey-level difference between objects and background.
        counts: images in train, val and test.
    """

    size: tuple[int, int] = (96, 96)
    num_classes: int = 1
    shapes: tuple[str, ...] = ("ellipse", "rectangle")
    objects: tuple[int, int] = (1, 2)
    scale: tuple[float, float] = (0.2, 0.45)
    noise: float = 12.0
    textured: bool = False
    grey: bool = False
    contrast: float = 70.0
    counts: tuple[int, int, int] = (24, 8, 8)


TASK_FAMILIES: dict[str, SceneRecipe] = {
    "shapes-binary": SceneRecipe(),
    "shapes-multiclass": SceneRecipe(num_classes=3, objects=(2, 4), scale=(0.15, 0.35)),
    "blobs-grey": SceneRecipe(shapes=("blob",), grey=True, noise=18.0, contrast=45.0),
    "textured-binary": SceneRecipe(shapes=("ellipse", "blob", "ring"), textured=True, contrast=60.0),
    "thin-lines": SceneRecipe(shapes=("lines",), grey=True, scale=(0.5, 0.9), contrast=60.0),
    "small-objects": SceneRecipe(size=(128, 128), objects=(3, 6), scale=(0.06, 0.14), noise=8.0),
    "low-contrast": SceneRecipe(shapes=("ellipse", "blob"), noise=20.0, contrast=22.0),
}


def generate_task(recipe: SceneRecipe, seed: int = 0) -> InMemoryData:
    """A dataset of ``recipe``, deterministic in ``seed``."""
    rng = np.random.default_rng(seed)
    splits = {}
    for split, count in zip(SPLIT_NAMES, recipe.counts, strict=True):
        pairs = [_scene(recipe, rng) for _ in range(count)]
        splits[split] = InMemorySplit([p[0] for p in pairs], [p[1] for p in pairs], [f"{split}{i:03d}" for i in range(count)])
    return InMemoryData(splits, [f"class{k + 1}" for k in range(recipe.num_classes)], num_channels=1 if recipe.grey else 3)


def _texture(rng: np.random.Generator, shape: tuple[int, int], smooth: float) -> np.ndarray:
    field = ndimage.gaussian_filter(rng.normal(0, 1, shape), smooth)
    return field / (field.std() + 1e-6)


def _region(kind: str, recipe: SceneRecipe, rng: np.random.Generator) -> np.ndarray:
    height, width = recipe.size
    yy, xx = np.mgrid[0:height, 0:width]
    side = rng.uniform(*recipe.scale) * min(height, width)
    cy, cx = rng.uniform(0.15, 0.85) * height, rng.uniform(0.15, 0.85) * width
    ry, rx = side / 2 * rng.uniform(0.6, 1.0), side / 2 * rng.uniform(0.6, 1.0)
    if kind == "rectangle":
        return (np.abs(yy - cy) <= ry) & (np.abs(xx - cx) <= rx)
    if kind == "ring":
        radius = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2
        return (radius <= 1) & (radius >= 0.35)
    if kind == "blob":
        blob = _texture(rng, (height, width), max(2.0, side / 6)) + 2.5 * (1 - ((yy - cy) / ry) ** 2 - ((xx - cx) / rx) ** 2)
        return blob > 1.0
    if kind == "lines":
        canvas = np.zeros((height, width), dtype=bool)
        for _ in range(rng.integers(3, 7)):
            y0, x0, y1, x1 = rng.uniform(0, 1, 4) * [height, width, height, width]
            steps = int(max(height, width) * 1.5)
            ys = np.clip(np.linspace(y0, y1, steps).astype(int), 0, height - 1)
            xs = np.clip(np.linspace(x0, x1, steps).astype(int), 0, width - 1)
            canvas[ys, xs] = True
        return ndimage.binary_dilation(canvas, iterations=int(rng.integers(1, 3)))
    return ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1  # ellipse


def _scene(recipe: SceneRecipe, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    height, width = recipe.size
    base = rng.uniform(40, 200, size=3)
    image = np.broadcast_to(base, (height, width, 3)).astype(np.float64).copy()
    if recipe.textured:
        image += 18 * _texture(rng, (height, width), 3.0)[..., None]
    mask = np.zeros((height, width), dtype=np.uint8)
    for _ in range(rng.integers(recipe.objects[0], recipe.objects[1] + 1)):
        label = int(rng.integers(1, recipe.num_classes + 1))
        region = _region(str(rng.choice(recipe.shapes)), recipe, rng)
        if not region.any():
            continue
        sign = 1 if base.mean() < 128 else -1
        colour = base + sign * recipe.contrast * (0.7 + 0.3 * label) + rng.normal(0, 15, 3)
        fill = np.broadcast_to(colour, (int(region.sum()), 3)).copy()
        if recipe.textured:
            fill += 20 * _texture(rng, (height, width), 2.0)[region][:, None]
        image[region] = fill
        mask[region] = label
    image += rng.normal(0, recipe.noise, size=image.shape)
    if recipe.grey:
        image[:] = image.mean(axis=2, keepdims=True)
    return np.clip(image, 0, 255).astype(np.uint8), mask


def _resize(array: np.ndarray, size: tuple[int, int] | None, nearest: bool) -> np.ndarray:
    if size is None or tuple(array.shape[:2]) == tuple(size):
        return array
    from PIL import Image

    resample = Image.NEAREST if nearest else Image.BILINEAR
    return np.asarray(Image.fromarray(array).resize((size[1], size[0]), resample))
