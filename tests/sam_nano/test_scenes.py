"""The procedural scenes of sam-nano's pretraining: deterministic, consistent, varied."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from tools.sam_nano import scenes
from tools.sam_nano.scenes import SCENE_SIZE, make_sample, make_scene, mask_box


@pytest.fixture(scope="module")
def samples():
    return [make_sample(seed=3, index=i) for i in range(120)]


def test_same_seed_and_index_give_the_same_sample():
    first, again = make_sample(7, 11), make_sample(7, 11)
    assert np.array_equal(first.image, again.image)
    assert np.array_equal(first.mask, again.mask)
    assert first.box == again.box


def test_other_index_or_seed_gives_another_image():
    base = make_sample(7, 11).image
    assert not np.array_equal(base, make_sample(7, 12).image)
    assert not np.array_equal(base, make_sample(8, 11).image)


def test_order_of_requests_does_not_matter():
    later_first = [make_scene(1, i) for i in (5, 2)]
    assert np.array_equal(later_first[1].image, make_scene(1, 2).image)


def test_samples_are_uint8_images_with_a_binary_mask_inside_its_tight_box(samples):
    for sample in samples:
        assert sample.image.shape == (SCENE_SIZE, SCENE_SIZE, 3) and sample.image.dtype == np.uint8
        assert sample.mask.dtype == bool and sample.mask.shape == (SCENE_SIZE, SCENE_SIZE)
        x0, y0, x1, y1 = sample.box
        assert 0 <= x0 <= x1 < SCENE_SIZE and 0 <= y0 <= y1 < SCENE_SIZE
        inside = np.zeros_like(sample.mask)
        inside[y0 : y1 + 1, x0 : x1 + 1] = True
        assert not (sample.mask & ~inside).any()
        assert mask_box(sample.mask) == sample.box  # tight: each side touches the mask
        assert sample.mask.sum() >= 24


def test_scenes_are_varied(samples):
    grey = [bool((s.image[..., 0] == s.image[..., 1]).all() and (s.image[..., 1] == s.image[..., 2]).all()) for s in samples]
    assert 0.15 < np.mean(grey) < 0.6  # both grey and colour images
    fractions = np.array([s.mask.mean() for s in samples])
    assert fractions.min() < 0.002 and fractions.max() > 0.4  # tiny to most of the image
    assert np.mean(fractions < 0.01) > 0.1 and np.mean(fractions > 0.1) > 0.1
    box_area = np.array([(s.box[2] - s.box[0] + 1) * (s.box[3] - s.box[1] + 1) for s in samples]) / SCENE_SIZE**2
    fill = fractions / box_area
    assert fill.min() < 0.2 and fill.max() > 0.9  # thin structures and compact shapes
    assert np.mean(box_area > 0.9) > 0.03  # whole-image boxes (networks, large objects)
    inside_mean = np.array([s.image[s.mask].mean() for s in samples])
    outside_mean = np.array([s.image[~s.mask].mean() for s in samples])
    assert np.mean(inside_mean < outside_mean) > 0.2 and np.mean(inside_mean > outside_mean) > 0.2
    assert len({s.image.std().round(0) for s in samples}) > 20
    assert max(len(make_scene(3, i).masks) for i in range(6)) >= 3  # several objects per scene


def test_network_share_only_decides_which_scenes_get_a_network():
    for index in range(12):
        default = make_scene(seed=0, index=index)
        always = make_scene(seed=0, index=index, network_share=1.0)
        never = make_scene(seed=0, index=index, network_share=0.0)
        assert np.array_equal(default.image, always.image) != np.array_equal(default.image, never.image)
        assert mask_box(always.masks[0]) == (0, 0, SCENE_SIZE - 1, SCENE_SIZE - 1)  # the network fills the image


def test_tissue_share_only_decides_how_network_scenes_look():
    for index in range(8):
        plain = make_scene(seed=0, index=index, network_share=0.0, tissue_share=1.0)
        assert np.array_equal(plain.image, make_scene(seed=0, index=index, network_share=0.0).image)
        tissue = make_scene(seed=0, index=index, network_share=1.0, tissue_share=1.0)
        assert not np.array_equal(tissue.image, make_scene(seed=0, index=index, network_share=1.0).image)
        x0, y0, x1, y1 = mask_box(tissue.masks[0])  # membranes across most of the image (gaps, occluders aside)
        assert (x1 - x0 + 1) * (y1 - y0 + 1) > 0.5 * SCENE_SIZE**2


def test_cell_tissue_paints_thin_membranes_mostly_darker_than_their_cells():
    darker = 0
    for index in range(10):
        rng = np.random.default_rng([7, index])
        image = np.full((SCENE_SIZE, SCENE_SIZE, 3), 0.6, np.float32)
        membranes = scenes._cell_tissue(rng, image)
        assert membranes.shape == (SCENE_SIZE, SCENE_SIZE) and 0.02 < membranes.mean() < 0.35
        opened = ndimage.binary_opening(membranes, iterations=3)  # a 7 px opening keeps junction blobs only
        assert opened.mean() < 0.25 * membranes.mean()
        darker += image[membranes].mean() < image[~membranes].mean()
    assert darker >= 6
