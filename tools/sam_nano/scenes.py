"""Procedural scenes with box prompts: the pretraining data of ``sam-nano``.

Every scene is a textured background with several textured objects painted over each other
(later objects occlude earlier ones), then photometric damage (contrast, gamma, blur, noise,
JPEG). One object is the target: its visible mask and its bounding box form the sample.
Everything is drawn from ``numpy.random.default_rng([seed, index])``, so a sample depends on
``(seed, index)`` only, whatever the order or the process that asks for it.

Scenes cover what real sets look like to a box-prompted model: compact objects of every size
(from a few pixels to almost the whole image), thin curvy structures and line networks (EM
membranes), rings and holes, darker or brighter foregrounds, low-contrast objects, distractors
outside the box, grey and colour images.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter
from scipy import ndimage

from qtt_engine.prompts import boxes_from_mask

__all__ = ["NETWORK_SHARE", "SCENE_SIZE", "TISSUE_SHARE", "Scene", "SceneSample", "make_sample", "make_scene", "mask_box", "pick_targets"]

SCENE_SIZE = 256  # pixels, side of every generated image
_MIN_TARGET_PX = 24  # a target's visible mask has at least this many pixels
NETWORK_SHARE = 0.15  # share of scenes with a whole-image membrane network
TISSUE_SHARE = 0.0  # of those, the share drawn as a tissue of cells (_cell_tissue); 0 keeps the shipped weights' stream


@dataclass(frozen=True)
class Scene:
    """One generated image with the visible masks of all its objects.

    Attributes:
        image: ``H x W x 3`` uint8.
        masks: ``K x H x W`` bool, the visible part of each object (occlusion applied).
    """

    image: np.ndarray
    masks: np.ndarray


@dataclass(frozen=True)
class SceneSample:
    """One box-prompted sample.

    Attributes:
        image: ``H x W x 3`` uint8 (H = W = 256).
        mask: ``H x W`` bool, the target object.
        box: ``(x0, y0, x1, y1)`` in pixels, the tight box of ``mask`` (x1, y1 inclusive).
    """

    image: np.ndarray
    mask: np.ndarray
    box: tuple[int, int, int, int]


def mask_box(mask: np.ndarray) -> tuple[int, int, int, int]:
    """Tight bounding box ``(x0, y0, x1, y1)`` of a non-empty ``H x W`` mask, inclusive, pixels:
    the engine's box prompt (:func:`qtt_engine.prompts.boxes_from_mask`) as integers."""
    x0, y0, x1, y1 = boxes_from_mask(np.asarray(mask, bool).view(np.uint8)).boxes[0]
    return int(x0), int(y0), int(x1), int(y1)


# ---------------------------------------------------------------- noise and textures


def _smooth_noise(rng: np.random.Generator, size: int | tuple[int, int], cells: int) -> np.ndarray:
    """``H x W`` (``size``) float32 noise in [0, 1], smooth at a scale of ``H / cells`` pixels."""
    height, width = (size, size) if isinstance(size, int) else size
    low = (rng.random((cells, max(1, cells * width // max(height, 1)))) * 255).astype(np.uint8)
    big = Image.fromarray(low).resize((width, height), Image.BICUBIC)
    out = np.asarray(big, dtype=np.float32) / 255.0
    lo, hi = out.min(), out.max()
    return (out - lo) / max(hi - lo, 1e-6)


def _fractal_noise(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    """``H x W`` sum of smooth noises at 3 scales, in [0, 1]."""
    total = np.zeros(size, np.float32)
    for octave, cells in enumerate((4, 12, 40)):
        total += _smooth_noise(rng, size, cells) * 0.55**octave
    total -= total.min()
    return total / max(total.max(), 1e-6)


def _pattern(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    """An ``H x W`` float32 pattern in [0, 1]: flat, gradient, stripes, checker, noise or shading."""
    kind = rng.integers(7)
    scale = np.float32(1.0 / SCENE_SIZE)
    yy = np.arange(size[0], dtype=np.float32)[:, None] * scale
    xx = np.arange(size[1], dtype=np.float32)[None, :] * scale
    angle = rng.uniform(0, np.pi)
    along = xx * np.cos(angle) + yy * np.sin(angle)
    if kind == 0:
        return np.full(size, 0.5, np.float32)
    if kind == 1:
        return (along - along.min()) / max(float(np.ptp(along)), 1e-6)
    if kind == 2:
        period = rng.uniform(0.02, 0.25)
        return (0.5 + 0.5 * np.sin(2 * np.pi * along / period)).astype(np.float32)
    if kind == 3:
        cell = rng.uniform(0.03, 0.2)
        return (((xx // cell) + (yy // cell)) % 2).astype(np.float32)
    if kind == 4 and min(size) >= 8:
        return _smooth_noise(rng, size, int(rng.integers(3, 48)) * size[0] // SCENE_SIZE + 2)
    if kind in (4, 5):
        return _fractal_noise(rng, size)
    cx, cy = rng.uniform(0.2, 0.8, size=2) * np.array(size[::-1]) * scale  # radial shading, a lit blob
    return np.clip(1.0 - np.hypot(xx - cx, yy - cy) * rng.uniform(1, 3) * SCENE_SIZE / max(size), 0, 1).astype(np.float32)


def _texture(rng: np.random.Generator, size: tuple[int, int], grey: bool, base: np.ndarray | None = None) -> np.ndarray:
    """An ``H x W x 3`` float32 texture in [0, 1]: two colours mixed by a pattern, plus fine noise.

    Args:
        base: a colour (3,) in [0, 1] for the first colour; random when None.
    """
    first = rng.random(3) if base is None else base
    second = np.clip(first + rng.normal(0, rng.uniform(0.05, 0.5), 3), 0, 1)
    if grey:
        first, second = np.full(3, first.mean()), np.full(3, second.mean())
    first, second = first.astype(np.float32), second.astype(np.float32)
    weight = _pattern(rng, size)[..., None]
    tex = first + (second - first) * weight
    grain = rng.uniform(0, 0.08)
    if grain > 0.02:
        tex += rng.standard_normal(size + (1,), dtype=np.float32) * np.float32(grain)
    return tex


# ---------------------------------------------------------------- object shapes


def _ellipse(rng: np.random.Generator, size: int, cx: float, cy: float, radius: float) -> np.ndarray:
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    rx, ry = radius * rng.uniform(0.4, 1.0), radius * rng.uniform(0.4, 1.0)
    angle = rng.uniform(0, np.pi)
    dx, dy = xx - cx, yy - cy
    u = dx * np.cos(angle) + dy * np.sin(angle)
    v = -dx * np.sin(angle) + dy * np.cos(angle)
    return (u / rx) ** 2 + (v / ry) ** 2 <= 1.0


def _polygon_points(rng: np.random.Generator, cx: float, cy: float, radius: float, star: bool) -> list:
    count = int(rng.integers(3, 12))
    angles = np.sort(rng.uniform(0, 2 * np.pi, count)) if not star else np.linspace(0, 2 * np.pi, 2 * count, endpoint=False)
    if star:
        radii = np.where(np.arange(2 * count) % 2 == 0, radius, radius * rng.uniform(0.25, 0.6))
    else:
        radii = radius * rng.uniform(0.5, 1.0, count)
    return [(float(cx + r * np.cos(a)), float(cy + r * np.sin(a))) for a, r in zip(angles, radii)]


def _draw(size: int, paint) -> np.ndarray:
    canvas = Image.new("L", (size, size), 0)
    paint(ImageDraw.Draw(canvas))
    return np.asarray(canvas) > 0


def _blob(rng: np.random.Generator, size: int, cx: float, cy: float, radius: float) -> np.ndarray:
    """Thresholded smooth noise under a radial falloff: an irregular organic shape."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    falloff = 1.0 - np.hypot((xx - cx) / radius, (yy - cy) / radius)
    field = falloff + 0.6 * (_smooth_noise(rng, size, int(rng.integers(4, 20))) - 0.5)
    return field > rng.uniform(0.0, 0.25)


def _curve(rng: np.random.Generator, size: int, cx: float, cy: float, radius: float) -> np.ndarray:
    """A thin curvy structure: a smooth random walk drawn 1-6 pixels wide, sometimes branched."""
    width = int(rng.integers(1, 7))
    strokes = int(rng.integers(1, 4))

    def paint(draw: ImageDraw.ImageDraw) -> None:
        for _ in range(strokes):
            steps = int(rng.integers(8, 40))
            heading = rng.uniform(0, 2 * np.pi)
            turn = np.cumsum(rng.normal(0, 0.35, steps))
            step = radius * 2 / steps
            x, y = cx + rng.normal(0, radius / 4), cy + rng.normal(0, radius / 4)
            points = [(x, y)]
            for t in turn:
                x, y = x + step * np.cos(heading + t), y + step * np.sin(heading + t)
                points.append((float(x), float(y)))
            draw.line(points, fill=255, width=width, joint="curve")

    return _draw(size, paint)


def _ring(rng: np.random.Generator, size: int, cx: float, cy: float, radius: float) -> np.ndarray:
    outer = _ellipse(rng, size, cx, cy, radius)
    inner = ndimage.binary_erosion(outer, iterations=int(max(1, radius * rng.uniform(0.1, 0.5))))
    return outer & ~inner


def _holed(rng: np.random.Generator, size: int, cx: float, cy: float, radius: float) -> np.ndarray:
    """A polygon with a few elliptic holes."""
    shape = _draw(size, lambda d: d.polygon(_polygon_points(rng, cx, cy, radius, False), fill=255))
    for _ in range(int(rng.integers(1, 4))):
        hx, hy = cx + rng.normal(0, radius / 3), cy + rng.normal(0, radius / 3)
        shape &= ~_ellipse(rng, size, hx, hy, radius * rng.uniform(0.1, 0.35))
    return shape


def _animal(rng: np.random.Generator, size: int, cx: float, cy: float, radius: float) -> np.ndarray:
    """A body with a neck, head and legs: a rough quadruped silhouette (horse-like)."""
    body_w, body_h = radius * rng.uniform(0.5, 0.8), radius * rng.uniform(0.2, 0.35)
    leg_len = radius * rng.uniform(0.4, 0.8)
    leg_w = max(2.0, radius * rng.uniform(0.04, 0.1))
    facing = 1 if rng.random() < 0.5 else -1

    def paint(draw: ImageDraw.ImageDraw) -> None:
        draw.ellipse([cx - body_w, cy - body_h, cx + body_w, cy + body_h], fill=255)
        neck = (cx + facing * body_w * 0.8, cy - body_h * 0.5)
        head = (neck[0] + facing * radius * 0.25, neck[1] - radius * rng.uniform(0.3, 0.5))
        draw.line([neck, head], fill=255, width=int(max(2, body_h * 0.6)))
        hr = body_h * 0.45
        draw.ellipse([head[0] - hr, head[1] - hr * 0.7, head[0] + hr * 1.2, head[1] + hr * 0.7], fill=255)
        for k in range(4):
            lx = cx + body_w * (-0.75 + 0.5 * k) + rng.normal(0, leg_w)
            draw.line([(lx, cy), (lx + rng.normal(0, leg_w * 2), cy + body_h + leg_len)], fill=255, width=int(leg_w))
        tail_x = cx - facing * body_w
        draw.line([(tail_x, cy - body_h * 0.5), (tail_x - facing * radius * 0.2, cy + body_h)], fill=255, width=int(max(1, leg_w * 0.7)))

    return _draw(size, paint)


def _shape(rng: np.random.Generator, size: int) -> np.ndarray:
    """One random object mask, ``size x size`` bool; its size ranges from tiny to whole-image."""
    radius = size * float(np.exp(rng.uniform(np.log(0.03), np.log(0.55))))
    cx, cy = rng.uniform(0.05, 0.95, 2) * size
    kind = rng.choice(9, p=[0.15, 0.14, 0.1, 0.16, 0.12, 0.08, 0.07, 0.1, 0.08])
    if kind == 0:
        return _ellipse(rng, size, cx, cy, radius)
    if kind in (1, 2):
        points = _polygon_points(rng, cx, cy, radius, star=kind == 2)
        return _draw(size, lambda d: d.polygon(points, fill=255))
    if kind == 3:
        return _blob(rng, size, cx, cy, radius)
    if kind == 4:
        return _curve(rng, size, cx, cy, radius)
    if kind == 5:
        return _ring(rng, size, cx, cy, radius)
    if kind == 6:
        return _holed(rng, size, cx, cy, radius)
    if kind == 7:
        return _animal(rng, size, cx, cy, radius)
    x0, y0 = cx - radius, cy - radius * rng.uniform(0.3, 1.0)  # (rounded) rectangle
    return _draw(size, lambda d: d.rounded_rectangle([x0, y0, cx + radius, cy + radius * 0.7], radius=float(rng.uniform(0, radius * 0.5)), fill=255))


def _cell_labels(rng: np.random.Generator, size: int, cells: int, max_warp: float, step: int = 4) -> np.ndarray:
    """``size x size`` uint8 labels of a jittered Voronoi tiling with ``cells`` cells, warped by
    up to ``max_warp`` px, computed on a grid of ``step`` px (1: smooth boundaries, 4: blocky)."""
    seeds = rng.random((cells, 2)) * size
    small = size // step
    yy, xx = np.mgrid[0:small, 0:small].astype(np.float32) * step
    shift = (_smooth_noise(rng, small, 6) - 0.5) * rng.uniform(0, max_warp)
    dist = (xx[..., None] + shift[..., None] - seeds[:, 0]) ** 2 + (yy[..., None] - seeds[:, 1]) ** 2
    label = np.argmin(dist, axis=-1).astype(np.uint8)
    return label if step == 1 else np.asarray(Image.fromarray(label).resize((size, size), Image.NEAREST))


def _boundaries(label: np.ndarray) -> np.ndarray:
    """``H x W`` bool: the pixels where ``label`` changes from the pixel above or to the left (1 px lines)."""
    return (np.diff(label, axis=0, prepend=label[:1]) != 0) | (np.diff(label, axis=1, prepend=label[:, :1]) != 0)


def _network(rng: np.random.Generator, size: int) -> np.ndarray:
    """Cell boundaries of a jittered Voronoi tiling, 1-7 pixels thick: an EM-membrane-like network."""
    edges = _boundaries(_cell_labels(rng, size, int(rng.integers(6, 80)), 30))
    thickness = int(rng.integers(0, 4))
    if thickness:
        edges = ndimage.binary_dilation(edges, iterations=thickness)
    if rng.random() < 0.4:  # interrupted membranes
        edges &= _smooth_noise(rng, size, 16) > rng.uniform(0.0, 0.3)
    return edges


def _cell_tissue(rng: np.random.Generator, image: np.ndarray) -> np.ndarray:
    """Paints a tissue of cells over ``image`` (``H x W x 3`` float32, in place), as electron
    micrographs, histology or plant cells look: cell interiors with their own shade and a fine
    grain, small organelles (dots, rings, dark blobs) inside them, and membranes 1-4 px wide
    between the cells, mostly darker than the cells.

    Returns:
        ``H x W`` bool, the membranes (organelles are not part of them: distractors).
    """
    size = image.shape[0]
    label = _cell_labels(rng, size, int(rng.integers(10, 160)), 60, step=1)
    shade = rng.uniform(-0.12, 0.12, 256).astype(np.float32)
    image += shade[label][..., None]
    grain = ndimage.gaussian_filter(rng.standard_normal((size, size), dtype=np.float32), rng.uniform(0.6, 1.6))
    image += (grain / max(float(grain.std()), 1e-6) * rng.uniform(0.02, 0.1))[..., None]
    mean = float(image.mean())  # membranes (and organelles) mostly darker than the cells
    tone = np.float32(mean * rng.uniform(0.0, 0.5) if rng.random() < 0.8 else mean + (1 - mean) * rng.uniform(0.5, 1.0))
    organelles = np.zeros((size, size), np.float32)
    canvas = Image.fromarray(np.zeros((size, size), np.uint8))
    draw = ImageDraw.Draw(canvas)
    for _ in range(int(rng.integers(0, 250))):  # vesicles: dots and small rings
        x, y, r = *(rng.random(2) * size), rng.uniform(0.8, 4.0)
        if rng.random() < 0.5:
            draw.ellipse([x - r, y - r, x + r, y + r], fill=int(rng.integers(60, 200)))
        else:
            draw.ellipse([x - r, y - r, x + r, y + r], outline=int(rng.integers(60, 200)), width=1)
    for _ in range(int(rng.integers(0, 6))):  # larger dark bodies (mitochondria, nuclei)
        blob = _ellipse(rng, size, *(rng.random(2) * size), size * rng.uniform(0.02, 0.08))
        organelles = np.maximum(organelles, blob * np.float32(rng.uniform(0.3, 0.8)))
    organelles = np.maximum(organelles, np.asarray(canvas, np.float32) / 255)
    image += organelles[..., None] * (tone - image)
    edges = _boundaries(label)
    if rng.random() < 0.5:
        edges = ndimage.binary_dilation(edges)
    if rng.random() < 0.5:  # thicker in places
        edges |= ndimage.binary_dilation(edges) & (_smooth_noise(rng, size, 12) > rng.uniform(0.4, 0.9))
    if rng.random() < 0.3:  # gaps
        edges &= _smooth_noise(rng, size, 16) > rng.uniform(0.0, 0.2)
    strength = np.float32(rng.uniform(0.6, 1.0))
    soft = ndimage.gaussian_filter(edges.astype(np.float32), rng.uniform(0.3, 0.8)) if rng.random() < 0.5 else edges.astype(np.float32)
    image += (np.clip(soft * 1.5, 0, 1) * strength)[..., None] * (tone - image)
    return edges


# ---------------------------------------------------------------- composition


def _background(rng: np.random.Generator, size: int, grey: bool) -> np.ndarray:
    tex = _texture(rng, (size, size), grey)
    if rng.random() < 0.5:  # a second, blended texture: cluttered backgrounds
        other = _texture(rng, (size, size), grey)
        weight = (_smooth_noise(rng, size, int(rng.integers(2, 10))) > 0.5).astype(np.float32)
        weight = ndimage.gaussian_filter(weight, 2)[..., None]
        tex = tex * (1 - weight) + other * weight
    return tex


def _object_colour(rng: np.random.Generator, background: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """A colour for an object: darker, brighter or similar (low contrast) to what lies under it."""
    under = background[mask].mean(axis=0) if mask.any() else background.mean(axis=(0, 1))
    mode = rng.random()
    if mode < 0.3:
        return np.clip(under * rng.uniform(0.1, 0.7), 0, 1)  # darker
    if mode < 0.6:
        return np.clip(under + (1 - under) * rng.uniform(0.3, 0.9), 0, 1)  # brighter
    if mode < 0.75:
        return np.clip(under + rng.normal(0, 0.12, 3), 0, 1)  # low contrast
    return rng.random(3)


def _paint_objects(rng: np.random.Generator, image: np.ndarray, grey: bool, count: int) -> list[np.ndarray]:
    """Paints ``count`` objects over ``image`` in place; returns their full (unoccluded) masks."""
    size = image.shape[0]
    shapes = []
    for _ in range(count):
        shape = _shape(rng, size)
        if shape.sum() < _MIN_TARGET_PX:
            continue
        x0, y0, x1, y1 = mask_box(shape)
        crop = (slice(max(y0 - 4, 0), y1 + 5), slice(max(x0 - 4, 0), x1 + 5))
        local = shape[crop]
        tex = _texture(rng, local.shape, grey, base=_object_colour(rng, image, shape))
        soft = local.astype(np.float32)
        if rng.random() < 0.5:  # anti-aliased or blurred edges
            soft = ndimage.gaussian_filter(soft, rng.uniform(0.5, 1.5))
        if rng.random() < 0.2:  # a dark or bright outline
            outline = local & ~ndimage.binary_erosion(local, iterations=int(rng.integers(1, 4)))
            tex[outline] = rng.random() * (0.3 if rng.random() < 0.5 else 1.0)
        alpha = soft[..., None] * np.float32(rng.uniform(0.75, 1.0))
        region = image[crop]
        region += alpha * (tex - region)
        shapes.append(shape)
    return shapes


def _visible(shapes: list[np.ndarray]) -> np.ndarray:
    """``K x H x W`` visible masks: each shape minus the shapes painted after it."""
    covered = np.zeros_like(shapes[0]) if shapes else None
    visible = []
    for shape in reversed(shapes):
        visible.append(shape & ~covered)
        covered = covered | shape
    return np.stack(visible[::-1]) if visible else np.zeros((0, 1, 1), bool)


def _degrade(rng: np.random.Generator, image: np.ndarray, max_blur: float = 2.5) -> np.ndarray:
    """Contrast, brightness, gamma, blur (radius up to ``max_blur`` px), noise and JPEG artefacts;
    returns ``H x W x 3`` uint8."""
    image = (image - 0.5) * np.float32(rng.uniform(0.4, 1.4)) + np.float32(0.5 + rng.normal(0, 0.12))
    np.clip(image, 0, 1, out=image)
    gamma = float(np.exp(rng.normal(0, 0.3)))
    if abs(gamma - 1) > 0.1:
        image **= np.float32(gamma)
    if rng.random() < 0.5:
        channels = 1 if rng.random() < 0.5 else 3
        image += rng.standard_normal(image.shape[:2] + (channels,), dtype=np.float32) * np.float32(rng.uniform(0.01, 0.1))
    out = (np.clip(image, 0, 1) * 255).astype(np.uint8)
    if rng.random() < 0.35:
        out = np.asarray(Image.fromarray(out).filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 2.5) * max_blur / 2.5)))
    if rng.random() < 0.3:
        buffer = io.BytesIO()
        Image.fromarray(out).save(buffer, format="JPEG", quality=int(rng.integers(10, 60)))
        out = np.asarray(Image.open(buffer).convert("RGB"))
    if rng.random() < 0.1:
        out = np.asarray(Image.fromarray(out).filter(ImageFilter.SHARPEN))
    return np.ascontiguousarray(out)


def make_scene(seed: int, index: int, size: int = SCENE_SIZE, network_share: float = NETWORK_SHARE,
               tissue_share: float = TISSUE_SHARE) -> Scene:
    """The scene number ``index`` of the stream ``seed``.

    ``network_share`` is the chance of a whole-image membrane network; changing it changes
    only which scenes get one (every other draw is the same). ``tissue_share`` is the chance
    that such a network is a tissue of cells (:func:`_cell_tissue`: textured cells, organelles
    as distractors, fewer painted objects, less blur) rather than a bare line network; at 0 the
    scenes are exactly those the shipped weights were trained on.

    Returns:
        A ``Scene`` whose ``masks`` (``K x size x size``, K >= 1) each have at least 24 pixels.
    """
    rng = np.random.default_rng([seed, index])
    grey = bool(rng.random() < 0.35)
    image = _background(rng, size, grey)
    shapes = []
    tissue = False
    if rng.random() < network_share:  # a membrane network over the whole image, objects as distractors
        tissue = tissue_share > 0 and rng.random() < tissue_share
        if tissue:
            shapes.append(_cell_tissue(rng, image))
        else:
            network = _network(rng, size)
            colour = _object_colour(rng, image, network)
            image[network] = image[network] * 0.3 + colour * 0.7
            shapes.append(network)
    distractors = int(rng.integers(1, 7))
    shapes += _paint_objects(rng, image, grey, distractors // 3 if tissue else distractors)
    masks = _visible(shapes)
    masks = masks[masks.reshape(len(masks), -1).sum(axis=1) >= _MIN_TARGET_PX] if len(masks) else masks
    if len(masks) == 0:  # every object fell outside or was hidden: fall back to a central ellipse
        fallback = _ellipse(rng, size, size / 2, size / 2, size * 0.25)
        image[fallback] = 1 - image[fallback]
        masks = fallback[None]
    return Scene(image=_degrade(rng, image, max_blur=1.0 if tissue else 2.5), masks=masks)  # 1 px membranes stay visible


def pick_targets(scene: Scene, count: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of up to ``count`` distinct objects of ``scene``, drawn with weight sqrt(area).

    Large objects are preferred a little, so that tiny fragments do not dominate the targets.
    """
    area = scene.masks.reshape(len(scene.masks), -1).sum(axis=1).astype(np.float64)
    weight = np.sqrt(area) / np.sqrt(area).sum()
    return rng.choice(len(area), size=min(count, len(area)), replace=False, p=weight)


def make_sample(seed: int, index: int, size: int = SCENE_SIZE) -> SceneSample:
    """The box-prompted sample number ``index`` of the stream ``seed``: one object of its scene."""
    scene = make_scene(seed, index, size)
    pick = pick_targets(scene, 1, np.random.default_rng([seed, index, 1]))[0]
    mask = scene.masks[pick]
    return SceneSample(image=scene.image, mask=mask, box=mask_box(mask))
