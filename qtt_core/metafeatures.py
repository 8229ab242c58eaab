"""The default meta-feature extractor: cheap numbers that describe a dataset.

The first four are those of the QTT-SEG paper (number of samples, resolution, channels,
classes); the rest are cheap descriptors computed on a seeded sample of training images so
that extraction stays fast on large datasets.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from qtt_core.data.protocol import IGNORE_INDEX, SegmentationData

__all__ = ["DefaultMetaFeatures"]


class DefaultMetaFeatures:
    """Meta-features of the training split, from at most ``max_samples`` images.

    Features (all floats):
        num_samples: training images.
        median_height, median_width: of the sampled images, pixels.
        num_channels: of the original images (1, 3 or 4).
        num_classes: foreground classes.
        foreground_fraction: mean fraction of labelled (non-background, non-ignored) pixels.
        objects_per_image: mean number of connected foreground regions.
        classes_per_image: mean number of foreground classes present.
        intensity_mean, intensity_std: of grey values, scaled to [0, 1].
        foreground_contrast: |mean grey of foreground - mean grey of background|, in [0, 1].
    """

    name = "default"
    feature_names = (
        "num_samples",
        "median_height",
        "median_width",
        "num_channels",
        "num_classes",
        "foreground_fraction",
        "objects_per_image",
        "classes_per_image",
        "intensity_mean",
        "intensity_std",
        "foreground_contrast",
    )

    def __init__(self, max_samples: int = 32):
        self.max_samples = max_samples

    def extract(self, data: SegmentationData, seed: int = 0) -> dict[str, float]:
        train = data.split("train")
        count = len(train)
        rng = np.random.default_rng(seed)
        chosen = sorted(rng.choice(count, size=min(count, self.max_samples), replace=False).tolist()) if count else []
        heights, widths, fg, objects, classes, means, stds, contrasts = ([] for _ in range(8))
        for index in chosen:
            image = train.image(index)
            mask = train.mask(index)
            grey = image.astype(np.float32).mean(axis=2) / 255.0
            foreground = (mask > 0) & (mask != IGNORE_INDEX)
            heights.append(mask.shape[0])
            widths.append(mask.shape[1])
            fg.append(foreground.mean())
            objects.append(ndimage.label(foreground)[1])
            classes.append(len(set(np.unique(mask).tolist()) - {0, IGNORE_INDEX}))
            means.append(grey.mean())
            stds.append(grey.std())
            if grey.shape == foreground.shape and foreground.any() and (~foreground).any():
                contrasts.append(abs(grey[foreground].mean() - grey[~foreground].mean()))
        values = {
            "num_samples": float(count),
            "median_height": _median(heights),
            "median_width": _median(widths),
            "num_channels": float(data.num_channels),
            "num_classes": float(data.num_classes),
            "foreground_fraction": _mean(fg),
            "objects_per_image": _mean(objects),
            "classes_per_image": _mean(classes),
            "intensity_mean": _mean(means),
            "intensity_std": _mean(stds),
            "foreground_contrast": _mean(contrasts),
        }
        return {name: values[name] for name in self.feature_names}


def _mean(values: list[float]) -> float:
    return float(np.mean(values)) if values else 0.0


def _median(values: list[float]) -> float:
    return float(np.median(values)) if values else 0.0
