"""Image and mask files in every format the data layer accepts."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from qtt_core.data.readers import probe_image, read_header, read_image, read_mask
from qtt_core.errors import UsageError

RGB = (np.arange(12 * 16 * 3, dtype=np.uint8).reshape(12, 16, 3) * 7) % 251


@pytest.mark.parametrize(
    ("suffix", "options"),
    [(".png", {}), (".bmp", {}), (".tif", {}), (".tif", {"compression": "tiff_lzw"}), (".jpg", {"quality": 95})],
)
def test_rgb_images_in_each_format(tmp_path, suffix, options):
    path = tmp_path / f"image{suffix}"
    Image.fromarray(RGB).save(path, **options)
    image, channels = read_image(path)
    assert image.shape == (12, 16, 3) and image.dtype == np.uint8 and channels == 3
    tolerance = 40 if suffix == ".jpg" else 0
    assert np.abs(image.astype(int) - RGB).mean() <= tolerance


def test_lzw_tiff_is_really_compressed_and_read(tmp_path):
    path = tmp_path / "lzw.tiff"
    Image.fromarray(RGB).save(path, compression="tiff_lzw")
    with Image.open(path) as image:
        assert image.info.get("compression") == "tiff_lzw"
    assert np.array_equal(read_image(path)[0], RGB)


def test_gif_rgba_and_grey(tmp_path):
    Image.fromarray(RGB).convert("P").save(tmp_path / "a.gif")
    rgba = np.dstack([RGB, np.full(RGB.shape[:2], 128, np.uint8)])
    Image.fromarray(rgba, "RGBA").save(tmp_path / "b.png")
    Image.fromarray(RGB[:, :, 0]).save(tmp_path / "c.png")
    gif, gif_channels = read_image(tmp_path / "a.gif")
    assert gif.shape == (12, 16, 3) and gif_channels == 3
    image, channels = read_image(tmp_path / "b.png")
    assert channels == 4 and np.array_equal(image, RGB)
    grey, grey_channels = read_image(tmp_path / "c.png")
    assert grey_channels == 1 and np.array_equal(grey[:, :, 1], RGB[:, :, 0])


def test_sixteen_bit_grey_png_and_tiff_are_scaled_to_eight_bits(tmp_path):
    import tifffile

    deep = (np.arange(12 * 16, dtype=np.uint16).reshape(12, 16) * 300).astype(np.uint16)
    Image.fromarray(deep).save(tmp_path / "deep.png")
    tifffile.imwrite(tmp_path / "deep.tif", deep)
    for name in ("deep.png", "deep.tif"):
        image, channels = read_image(tmp_path / name)
        assert channels == 1 and image.dtype == np.uint8
        assert image.max() == 255 and image[0, 0, 0] == 0
        assert np.all(np.diff(image[:, :, 0].ravel().astype(int)) >= 0)  # order kept


def test_sixteen_bit_rgb_tiff_goes_through_tifffile(tmp_path):
    import tifffile

    deep = RGB.astype(np.uint16) * 256
    tifffile.imwrite(tmp_path / "rgb16.tif", deep, photometric="rgb")
    image, channels = read_image(tmp_path / "rgb16.tif")
    assert channels == 3 and np.abs(image.astype(int) - RGB).max() <= 1
    assert read_header(tmp_path / "rgb16.tif") == ((12, 16), 3)


def test_exif_orientation_is_applied(tmp_path):
    path = tmp_path / "rotated.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    Image.fromarray(RGB).save(path, exif=exif, quality=95)
    image, _ = read_image(path)
    assert image.shape == (16, 12, 3)
    assert read_header(path)[0] == (16, 12)


def test_truncated_and_non_image_files_raise_usage_errors_naming_the_file(tmp_path):
    path = tmp_path / "cut.jpg"
    Image.fromarray(RGB).save(path)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(UsageError, match="cut.jpg"):
        read_image(path)
    with pytest.raises(UsageError, match="cut.jpg"):
        probe_image(path)
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    with pytest.raises(UsageError, match="notes.png.*cannot be read"):
        read_header(text)


def test_masks_keep_raw_values_by_mode(tmp_path):
    labels = np.zeros((8, 8), np.uint8)
    labels[2:5, 2:5] = 1
    Image.fromarray(labels.astype(bool)).save(tmp_path / "one.png")  # mode 1
    palette = Image.fromarray(labels, "P")
    palette.putpalette([0, 0, 0, 200, 10, 10] + [0] * 762)
    palette.save(tmp_path / "p.png")
    Image.fromarray(np.dstack([labels * 200] * 3)).save(tmp_path / "greyrgb.png")
    Image.fromarray(np.dstack([labels * 200, labels * 10, labels * 10])).save(tmp_path / "colour.png")
    assert read_mask(tmp_path / "one.png").kind == "grey"
    assert set(np.unique(read_mask(tmp_path / "one.png").values)) == {0, 1}
    raw = read_mask(tmp_path / "p.png")
    assert raw.kind == "palette" and tuple(raw.palette[1]) == (200, 10, 10)
    assert tuple(raw.rgb()[3, 3]) == (200, 10, 10)
    assert read_mask(tmp_path / "greyrgb.png").kind == "grey"
    assert read_mask(tmp_path / "colour.png").kind == "colour"
