"""The default meta-features on data whose answers are known by construction."""

from __future__ import annotations

import numpy as np
import pytest

from qtt_core.metafeatures import DefaultMetaFeatures
from qtt_core.testing import InMemoryData, InMemorySplit, make_shapes_data


def _data() -> InMemoryData:
    image = np.zeros((20, 30, 3), dtype=np.uint8)
    image[:, :10] = 255
    mask = np.zeros((20, 30), dtype=np.uint8)
    mask[:, :10] = 1  # one object, a third of the image, bright on black
    mask[0, 29] = 255  # an ignored pixel does not count as foreground
    tall = np.zeros((40, 10, 3), dtype=np.uint8)
    tall_mask = np.zeros((40, 10), dtype=np.uint8)
    tall_mask[:5, :] = 2
    tall_mask[30:, :] = 2  # two regions of class 2
    train = InMemorySplit([image, tall], [mask, tall_mask])
    empty = InMemorySplit([], [])
    return InMemoryData({"train": train, "val": empty, "test": empty}, ["a", "b"], num_channels=1)


def test_known_values():
    features = DefaultMetaFeatures().extract(_data())
    assert features["num_samples"] == 2
    assert features["median_height"] == 30 and features["median_width"] == 20
    assert features["num_channels"] == 1 and features["num_classes"] == 2
    assert features["foreground_fraction"] == pytest.approx((10 / 30 + 15 / 40) / 2)
    assert features["objects_per_image"] == pytest.approx(1.5)
    assert features["classes_per_image"] == 1
    assert features["foreground_contrast"] == pytest.approx(0.5)


def test_samples_large_datasets_deterministically():
    data = make_shapes_data(n_train=40, n_val=1, n_test=1, seed=2)
    extractor = DefaultMetaFeatures(max_samples=8)
    assert extractor.extract(data, seed=1) == extractor.extract(data, seed=1)
    assert extractor.extract(data, seed=1)["num_samples"] == 40
