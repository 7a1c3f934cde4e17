"""symcnn.data: IDX/MNIST reading on the real test set and on synthetic files, photos, helpers."""

import gzip
import shutil
import struct
import sys
import tracemalloc
import zlib
from pathlib import Path

import numpy as np
import pytest

from symcnn.data import load_image, load_mnist, one_hot, read_idx, sample_image, split

MNIST_DIRECTORY = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "mnist"
IMAGES = "t10k-images-idx3-ubyte"
LABELS = "t10k-labels-idx1-ubyte"
needs_mnist = pytest.mark.skipif(
    not (MNIST_DIRECTORY / f"{IMAGES}.gz").is_file() or not (MNIST_DIRECTORY / f"{LABELS}.gz").is_file(),
    reason=f"MNIST test set not found in {MNIST_DIRECTORY}")


def idx_bytes(array, type_code=0x08, dims=None):
    """An IDX file's bytes: 0, 0, type code, number of dims, big-endian uint32 sizes, data."""
    array = np.asarray(array)
    dims = array.ndim if dims is None else dims
    big_endian = array.astype(array.dtype.newbyteorder(">"))
    return (bytes([0, 0, type_code, dims]) + np.array(array.shape, ">u4").tobytes()
            + big_endian.tobytes())


def write(path, content, gz=False):
    path.write_bytes(gzip.compress(content) if gz else content)
    return path


def write_mnist(directory, count=4, label_count=None, size=5, gz=False, labels=None):
    """A tiny MNIST-like pair in ``directory``: images of value i in image i, labels 0..count-1."""
    images = np.repeat(np.arange(count, dtype=np.uint8), size * size).reshape(count, size, size)
    labels = np.arange(count if label_count is None else label_count, dtype=np.uint8) \
        if labels is None else np.asarray(labels, dtype=np.uint8)
    suffix = ".gz" if gz else ""
    write(directory / f"{IMAGES}{suffix}", idx_bytes(images), gz)
    write(directory / f"{LABELS}{suffix}", idx_bytes(labels), gz)
    return images, labels


# ---------------------------------------------------------------- the real MNIST test set

@pytest.fixture(scope="module")
def mnist():
    return load_mnist(MNIST_DIRECTORY)


@needs_mnist
def test_mnist_shapes_and_types(mnist):
    images, labels = mnist
    assert images.shape == (10_000, 1, 28, 28) and images.dtype == np.float64
    assert labels.shape == (10_000,) and labels.dtype == np.int64


@needs_mnist
def test_mnist_first_labels_and_class_counts(mnist):
    _, labels = mnist
    assert labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert np.bincount(labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@needs_mnist
def test_mnist_pixels_scaled_to_unit_interval(mnist):
    images, _ = mnist
    assert images.min() == 0.0 and images.max() == 1.0
    raw, _ = load_mnist(MNIST_DIRECTORY, scale=False)
    assert raw.max() == 255.0 and np.array_equal(raw / 255.0, images)
    assert np.array_equal(raw, np.round(raw))  # whole grey levels 0..255


@needs_mnist
def test_mnist_raw_files_equal_gzipped(mnist, tmp_path):
    for name in (IMAGES, LABELS):
        with gzip.open(MNIST_DIRECTORY / f"{name}.gz") as source, open(tmp_path / name, "wb") as target:
            shutil.copyfileobj(source, target)
    images, labels = load_mnist(str(tmp_path))
    assert np.array_equal(images, mnist[0]) and np.array_equal(labels, mnist[1])
    assert np.array_equal(read_idx(tmp_path / IMAGES), read_idx(MNIST_DIRECTORY / f"{IMAGES}.gz"))


@needs_mnist
def test_mnist_read_idx_gives_header_type_and_shape():
    images = read_idx(MNIST_DIRECTORY / f"{IMAGES}.gz")
    assert images.dtype == np.uint8 and images.shape == (10_000, 28, 28)


@needs_mnist
def test_mnist_classes_keep_only_those_in_original_order(mnist):
    images, labels = load_mnist(MNIST_DIRECTORY, classes=(3, 6))
    assert len(images) == len(labels) == 1010 + 958
    assert set(labels.tolist()) == {3, 6}
    keep = np.isin(mnist[1], (3, 6))
    assert np.array_equal(images, mnist[0][keep]) and np.array_equal(labels, mnist[1][keep])


@needs_mnist
def test_mnist_crop_keeps_top_left(mnist):
    images, labels = load_mnist(MNIST_DIRECTORY, crop=(27, 27))
    assert images.shape == (10_000, 1, 27, 27)
    assert np.array_equal(images, mnist[0][:, :, :27, :27])
    assert np.array_equal(labels, mnist[1])


# ---------------------------------------------------------------- read_idx on synthetic files

@pytest.mark.parametrize("dtype, code", [("u1", 0x08), ("i1", 0x09), ("i2", 0x0B),
                                         ("i4", 0x0C), ("f4", 0x0D), ("f8", 0x0E)])
def test_read_idx_round_trips_every_type(tmp_path, dtype, code):
    array = (np.arange(24) - 5).astype(dtype).reshape(2, 3, 4)
    result = read_idx(write(tmp_path / "a.idx", idx_bytes(array, code)))
    assert result.dtype == np.dtype(dtype) and np.array_equal(result, array)
    result[0, 0, 0] = 1  # a writable copy, not a view of the file's bytes


def test_read_idx_detects_gzip_by_magic_bytes_not_name(tmp_path):
    array = np.arange(6, dtype=np.uint8).reshape(2, 3)
    gzipped_without_suffix = write(tmp_path / "plain-name", idx_bytes(array), gz=True)
    raw_with_suffix = write(tmp_path / "raw-name.gz", idx_bytes(array))
    assert np.array_equal(read_idx(gzipped_without_suffix), array)
    assert np.array_equal(read_idx(raw_with_suffix), array)


@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_truncated_data_names_file_and_byte_counts(tmp_path, gz):
    content = idx_bytes(np.zeros((3, 4), np.uint8))[:-2]
    path = write(tmp_path / "cut.idx", content, gz)
    with pytest.raises(ValueError, match=r"cut\.idx: truncated.*12 data bytes.*has 10"):
        read_idx(path)


def test_read_idx_too_long(tmp_path):
    path = write(tmp_path / "long.idx", idx_bytes(np.zeros(5, np.uint8)) + b"\0")
    with pytest.raises(ValueError, match=r"long\.idx: too long.*5 data bytes.*has more"):
        read_idx(path)


def test_read_idx_corrupted_gzip_names_file(tmp_path):
    compressed = bytearray(gzip.compress(idx_bytes(np.arange(200, dtype=np.uint8))))
    compressed[12:20] = b"\xff" * 8  # damage the deflate stream
    path = write(tmp_path / "damaged.gz", bytes(compressed))
    with pytest.raises(ValueError, match=r"damaged\.gz: corrupted gzip"):
        read_idx(path)


def test_read_idx_cut_off_gzip_names_file(tmp_path):
    compressed = gzip.compress(idx_bytes(np.arange(200, dtype=np.uint8)))
    path = write(tmp_path / "cut.gz", compressed[: len(compressed) // 2])
    with pytest.raises(ValueError, match=r"cut\.gz: corrupted gzip"):
        read_idx(path)


@pytest.mark.parametrize("content, message", [
    (b"\0\0", "too short for an IDX header"),
    (b"\x01\0\x08\x01" + bytes(8), "first two bytes must be zero"),
    (b"\0\0\x07\x01" + np.array([1], ">u4").tobytes() + b"\0", "unsupported IDX type code 0x07"),
    (b"\0\0\x08\x00", "0 dimensions"),
    (b"\0\0\x08\x03" + bytes(5), "truncated IDX header"),
])
def test_read_idx_bad_header(tmp_path, content, message):
    with pytest.raises(ValueError, match=message):
        read_idx(write(tmp_path / "bad.idx", content))


def test_read_idx_missing_file_and_wrong_type(tmp_path):
    with pytest.raises(ValueError, match=r"nothing\.idx: no such file"):
        read_idx(tmp_path / "nothing.idx")
    with pytest.raises(TypeError, match="path must be a str or path-like"):
        read_idx(3)


# ---------------------------------------------------------------- load_mnist on synthetic files

@pytest.mark.parametrize("gz", [False, True])
def test_load_mnist_synthetic(tmp_path, gz):
    raw_images, raw_labels = write_mnist(tmp_path, count=4, gz=gz)
    images, labels = load_mnist(tmp_path)
    assert images.shape == (4, 1, 5, 5) and images.dtype == np.float64
    assert np.array_equal(images[:, 0], raw_images / 255.0)
    assert labels.dtype == np.int64 and np.array_equal(labels, raw_labels)


def test_load_mnist_prefix_and_class_order(tmp_path):
    images = np.arange(6, dtype=np.uint8).repeat(4).reshape(6, 2, 2)
    write(tmp_path / "train-images-idx3-ubyte", idx_bytes(images))
    write(tmp_path / "train-labels-idx1-ubyte", idx_bytes(np.array([6, 3, 1, 3, 6, 1], np.uint8)))
    kept, labels = load_mnist(tmp_path, prefix="train", classes=[3, 6], scale=False)
    assert labels.tolist() == [6, 3, 3, 6]  # original order, not the order of ``classes``
    assert kept[:, 0, 0, 0].tolist() == [0, 1, 3, 4]


def test_load_mnist_missing_directory(tmp_path):
    missing = tmp_path / "no-such-dir"
    with pytest.raises(ValueError, match=rf"{missing.name} does not exist.*{IMAGES}\[\.gz\] and {LABELS}"):
        load_mnist(missing)


@pytest.mark.parametrize("present, absent", [(LABELS, IMAGES), (IMAGES, LABELS)])
def test_load_mnist_missing_file(tmp_path, present, absent):
    write_mnist(tmp_path)
    (tmp_path / absent).unlink()
    with pytest.raises(ValueError, match=rf"no file {absent} or {absent}\.gz \(looked for {IMAGES}"):
        load_mnist(tmp_path)


def test_load_mnist_wrong_magic_number(tmp_path):
    write_mnist(tmp_path)
    shutil.copy(tmp_path / LABELS, tmp_path / IMAGES)  # a labels file where the images belong
    with pytest.raises(ValueError, match=rf"{IMAGES}: wrong magic number 2049 \(expected 2051"):
        load_mnist(tmp_path)
    write_mnist(tmp_path)
    write(tmp_path / LABELS, idx_bytes(np.zeros((4, 1), np.uint8)))  # 2 dims: magic 2050
    with pytest.raises(ValueError, match=rf"{LABELS}: wrong magic number 2050 \(expected 2049"):
        load_mnist(tmp_path)


def test_load_mnist_truncated_file(tmp_path):
    write_mnist(tmp_path)
    content = (tmp_path / IMAGES).read_bytes()
    write(tmp_path / IMAGES, content[:-7])
    with pytest.raises(ValueError, match=rf"{IMAGES}: truncated.*100 data bytes.*has 93"):
        load_mnist(tmp_path)


def test_load_mnist_corrupted_gzip(tmp_path):
    write_mnist(tmp_path, count=40, gz=True)
    content = bytearray((tmp_path / f"{LABELS}.gz").read_bytes())
    content[-8:] = bytes(8)  # wrong CRC and length in the gzip trailer
    write(tmp_path / f"{LABELS}.gz", bytes(content))
    with pytest.raises(ValueError, match=rf"{LABELS}\.gz: corrupted gzip"):
        load_mnist(tmp_path)


def test_load_mnist_count_mismatch(tmp_path):
    write_mnist(tmp_path, count=4, label_count=3)
    with pytest.raises(ValueError, match="count mismatch.*4 images.*3 labels"):
        load_mnist(tmp_path)


def test_load_mnist_unknown_class(tmp_path):
    write_mnist(tmp_path, count=4)
    with pytest.raises(ValueError, match=r"unknown class\(es\) \[7\].*holds labels \[0, 1, 2, 3\]"):
        load_mnist(tmp_path, classes=(1, 7))
    with pytest.raises(TypeError, match="classes must be ints"):
        load_mnist(tmp_path, classes=(1.0,))
    with pytest.raises(TypeError, match="iterable of ints"):
        load_mnist(tmp_path, classes="13")


@pytest.mark.parametrize("crop, error, message", [
    ((6, 5), ValueError, r"crop \(6, 5\) is larger than the images \(5x5\)"),
    ((5, 9), ValueError, "larger than the images"),
    ((0, 3), ValueError, "crop must be positive"),
    ((3,), TypeError, "crop must be a pair of ints"),
    ((2.5, 3), TypeError, "crop must be a pair of ints"),
])
def test_load_mnist_bad_crop(tmp_path, crop, error, message):
    write_mnist(tmp_path)
    with pytest.raises(error, match=message):
        load_mnist(tmp_path, crop=crop)


def test_load_mnist_crop_synthetic(tmp_path):
    write_mnist(tmp_path)
    images, _ = load_mnist(tmp_path, crop=(4, 3))
    assert images.shape == (4, 1, 4, 3)


def test_load_mnist_empty_result(tmp_path):
    write_mnist(tmp_path, count=0)
    with pytest.raises(ValueError, match="no images left"):
        load_mnist(tmp_path)


def test_load_mnist_wrong_argument_types(tmp_path):
    with pytest.raises(TypeError, match="directory must be a str or path-like"):
        load_mnist(None)
    with pytest.raises(TypeError, match="prefix must be a str"):
        load_mnist(tmp_path, prefix=10)


# ---------------------------------------------------------------- one_hot

def test_one_hot_with_inferred_and_given_class_count():
    assert one_hot([2, 0]).tolist() == [[0, 0, 1], [1, 0, 0]]
    encoded = one_hot(np.array([1, 3], np.int64), classes=5)
    assert encoded.dtype == np.float64 and encoded.tolist() == [[0, 1, 0, 0, 0], [0, 0, 0, 1, 0]]
    assert one_hot(np.arange(10), 10).tolist() == np.eye(10).tolist()


def test_one_hot_with_class_values():
    assert one_hot([3, 6, 6], classes=(3, 6)).tolist() == [[1, 0], [0, 1], [0, 1]]
    assert one_hot([3, 6], classes=[6, 3]).tolist() == [[0, 1], [1, 0]]  # column k is classes[k]
    assert one_hot([], classes=(3, 6)).shape == (0, 2)


@pytest.mark.parametrize("labels, classes, message", [
    ([0, 5], 5, r"labels out of range 0\.\.4: \[5\]"),
    ([-1, 0], None, r"labels out of range 0\.\.0: \[-1\]"),
    ([3, 4], (3, 6), r"labels out of range: \[4\] are not among classes \[3, 6\]"),
    ([3], (3, 3), "classes must be distinct"),
    ([0], 0, "classes must be >= 1"),
    ([], None, "cannot infer the number of classes"),
    ([[0, 1]], 2, "labels must be 1-D"),
])
def test_one_hot_errors(labels, classes, message):
    with pytest.raises(ValueError, match=message):
        one_hot(labels, classes)


def test_one_hot_wrong_types():
    with pytest.raises(TypeError, match="labels must be integers"):
        one_hot([0.5, 1.0])
    with pytest.raises(TypeError, match="classes must be ints"):
        one_hot([3], classes=(3.0, 6.0))


# ---------------------------------------------------------------- split

def test_split_by_index_ranges():
    images, labels = np.arange(20).reshape(10, 2), np.arange(10) % 3
    (train_x, train_y), (test_x, test_y) = split(images, labels, train=(0, 6), test=(8, 10))
    assert np.array_equal(train_x, images[:6]) and np.array_equal(train_y, labels[:6])
    assert np.array_equal(test_x, images[8:]) and np.array_equal(test_y, labels[8:])


@pytest.mark.parametrize("train, test, message", [
    ((0, 0), (5, 10), r"train range \(0, 0\) must satisfy 0 <= start < stop <= 10"),
    ((0, 5), (8, 11), r"test range \(8, 11\) must satisfy"),
    ((-1, 5), (5, 10), r"train range \(-1, 5\)"),
    ((6, 4), (8, 10), r"train range \(6, 4\)"),
    ((0, 6), (5, 10), r"train range \(0, 6\) and test range \(5, 10\) overlap"),
])
def test_split_bad_ranges(train, test, message):
    with pytest.raises(ValueError, match=message):
        split(np.zeros((10, 1, 2, 2)), np.zeros(10), train, test)


def test_split_bad_inputs():
    with pytest.raises(ValueError, match="differ in length: 10 vs 9"):
        split(np.zeros(10), np.zeros(9), (0, 5), (5, 9))
    with pytest.raises(TypeError, match="train must be a pair of ints"):
        split(np.zeros(10), np.zeros(10), 5, (5, 10))
    with pytest.raises(TypeError, match="test must be a pair of ints"):
        split(np.zeros(10), np.zeros(10), (0, 5), (5.0, 10))


# ---------------------------------------------------------------- photos

def test_load_image_rgb_channel_and_size_order(tmp_path):
    from PIL import Image
    pixels = np.random.default_rng(0).integers(0, 256, (12, 10, 3), dtype=np.uint8)
    path = tmp_path / "photo.png"
    Image.fromarray(pixels).save(path)
    for channel in range(3):
        image = load_image(path, size=(6, 4), channel=channel)  # (height, width)
        expected = np.asarray(Image.fromarray(pixels[:, :, channel]).resize((4, 6), Image.BILINEAR))
        assert image.shape == (1, 6, 4) and image.dtype == np.float64
        assert np.array_equal(image[0], expected / 255.0)
    unresized = load_image(path, size=(12, 10), channel=1)
    assert np.array_equal(unresized[0], pixels[:, :, 1] / 255.0)


def test_load_image_grayscale_has_only_channel_zero(tmp_path):
    from PIL import Image
    path = tmp_path / "gray.png"
    Image.fromarray(np.full((5, 5), 255, np.uint8)).save(path)
    assert np.array_equal(load_image(path, size=(3, 3)), np.ones((1, 3, 3)))
    with pytest.raises(ValueError, match=r"channel 1 out of range: .*gray\.png has 1 channel"):
        load_image(path, channel=1)


def test_load_image_palette_and_jpeg(tmp_path):
    from PIL import Image
    palette = Image.new("P", (4, 4))
    palette.putpalette([0, 0, 0, 255, 102, 0] + [0] * 762)
    palette.paste(1, (0, 0, 4, 4))
    palette.save(tmp_path / "palette.png")
    image = load_image(tmp_path / "palette.png", size=(2, 2), channel=1)
    assert np.allclose(image, 0.4)  # the palette colour's green, not the palette index
    Image.new("RGB", (8, 8), (200, 10, 10)).save(tmp_path / "photo.jpg")
    red = load_image(tmp_path / "photo.jpg", size=(4, 4))
    assert red.shape == (1, 4, 4) and np.all(np.abs(red - 200 / 255) < 0.05)


def test_load_image_errors(tmp_path):
    from PIL import Image
    (tmp_path / "notes.txt").write_text("not a picture")
    with pytest.raises(ValueError, match=r"notes\.txt: not an image file"):
        load_image(tmp_path / "notes.txt")
    with pytest.raises(ValueError, match=r"missing\.png: no such image file"):
        load_image(tmp_path / "missing.png")
    noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    Image.fromarray(noise).save(tmp_path / "cut.png")
    content = (tmp_path / "cut.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(content[: len(content) // 2])  # header intact, pixels cut
    with pytest.raises(ValueError, match=r"cut\.png: cannot read image"):
        load_image(tmp_path / "cut.png")
    Image.new("I;16", (4, 4)).save(tmp_path / "deep.png")
    with pytest.raises(ValueError, match=r"deep\.png: unsupported image mode I;16"):
        load_image(tmp_path / "deep.png")
    with pytest.raises(ValueError, match="size must be positive"):
        load_image(tmp_path / "cut.png", size=(0, 4))
    with pytest.raises(TypeError, match="channel must be an int"):
        load_image(tmp_path / "cut.png", channel="red")


def test_sample_image_is_a_real_photo():
    photo = sample_image()
    assert photo.shape == (1, 27, 27) and photo.dtype == np.float64
    assert 0.0 <= photo.min() and photo.max() <= 1.0
    assert photo.std() > 0.05  # not constant: a face, not a flat field
    assert sample_image((10, 12)).shape == (1, 10, 12)


@pytest.mark.parametrize("module, function", [("PIL", load_image), ("matplotlib", sample_image)])
def test_missing_extras_say_how_to_install(monkeypatch, tmp_path, module, function):
    monkeypatch.setitem(sys.modules, module, None)  # makes ``import module`` raise ImportError
    with pytest.raises(ImportError, match=r'pip install "symcnn\[plots\]"'):
        function(tmp_path / "photo.png") if function is load_image else function()


# ---------------------------------------------------------------- limits: hostile files

def write_gzip_bomb(path, declared_images=10_000, actual_bytes=64 * 2 ** 20):
    """A gzip file whose IDX header declares ``declared_images`` 28x28 images but which
    decompresses to ``actual_bytes`` of data: written in chunks, never whole in memory."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: the gzip container
    chunk = bytes(2 ** 20)
    with path.open("wb") as file:
        file.write(compressor.compress(bytes([0, 0, 8, 3]) + np.array([declared_images, 28, 28], ">u4").tobytes()))
        for _ in range(actual_bytes // len(chunk)):
            file.write(compressor.compress(chunk))
        file.write(compressor.flush())
    return path


def test_a_gzip_bomb_is_refused_without_decompressing_past_the_declared_size(tmp_path):
    """The header declares 10,000 images (7.8 MB) but the stream holds 64 MB; reading stops at
    the declared size + 1 byte (the old reader decompressed everything, and a 3 GB bomb ended
    in a bare MemoryError)."""
    path = write_gzip_bomb(tmp_path / "bomb.gz")
    assert path.stat().st_size < 2 ** 20
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"bomb\.gz: too long: header says shape \(10000, 28, 28\) of uint8, "
                                             r"i\.e\. 7840000 data bytes, but the file has more"):
            read_idx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * 7_840_000, f"{peak:,} bytes allocated"  # the 64 MB never existed (a few copies of 7.8 MB did)


def test_a_header_declaring_more_than_max_bytes_is_refused_before_reading(tmp_path):
    huge = write(tmp_path / "huge.gz", bytes([0, 0, 8, 3]) + np.array([60_000, 2000, 2000], ">u4").tobytes(), gz=True)
    with pytest.raises(ValueError, match=r"huge\.gz: header declares shape \(60000, 2000, 2000\) of uint8, i\.e\. "
                                         r"240,000,000,000 data bytes, more than max_bytes=1,073,741,824 "
                                         r"\(symcnn\.data\.MAX_IDX_BYTES\); nothing was read"):
        read_idx(huge)
    images, _ = write_mnist(tmp_path, count=4, size=5)  # 100 data bytes
    with pytest.raises(ValueError, match=r"100 data bytes, more than max_bytes=99 "):
        load_mnist(tmp_path, max_bytes=99)
    assert load_mnist(tmp_path, max_bytes=100)[0].shape == (4, 1, 5, 5)
    with pytest.raises(TypeError, match=r"max_bytes must be an int, got '1 GB'"):
        read_idx(huge, max_bytes="1 GB")


def png_declaring(path, width, height):
    """A small real PNG whose IHDR is patched to declare ``width`` x ``height`` (CRC recomputed)."""
    from PIL import Image
    Image.new("L", (8, 8), 128).save(path)
    raw = bytearray(path.read_bytes())
    ihdr = raw.index(b"IHDR")  # 4-byte length before it, 13 data bytes and a CRC after it
    raw[ihdr + 4:ihdr + 12] = struct.pack(">II", width, height)
    raw[ihdr + 17:ihdr + 21] = struct.pack(">I", zlib.crc32(raw[ihdr:ihdr + 17]))
    path.write_bytes(bytes(raw))
    return path


@pytest.mark.parametrize("side", [15_000, 9_500])
def test_a_png_beyond_pillow_s_limit_is_refused_as_a_symcnn_error(tmp_path, side):
    """15000x15000 is beyond twice Pillow's limit (its DecompressionBombError used to escape),
    9500x9500 between its limit and twice it (a DecompressionBombWarning, an error under pytest)."""
    path = png_declaring(tmp_path / "bomb.png", side, side)
    with pytest.raises(ValueError, match=rf"bomb\.png: too many pixels to decode safely \(.*{side * side} pixels"
                                         r".*PIL\.Image\.MAX_IMAGE_PIXELS\)"):
        load_image(path, max_pixels=10 ** 9)


def test_an_image_beyond_max_pixels_is_refused_from_its_header(tmp_path):
    """8000x8000 is below Pillow's limit: symcnn's own (50 million) refuses it before decoding."""
    with pytest.raises(ValueError, match=r"big\.png: 8000x8000 = 64,000,000 pixels, more than max_pixels=50,000,000 "
                                         r"\(symcnn\.data\.MAX_IMAGE_PIXELS\); nothing was decoded"):
        load_image(png_declaring(tmp_path / "big.png", 8000, 8000))
    from PIL import Image
    Image.new("RGB", (16, 16), (200, 10, 10)).save(tmp_path / "small.png")
    with pytest.raises(ValueError, match=r"small\.png: 16x16 = 256 pixels, more than max_pixels=255 "):
        load_image(tmp_path / "small.png", max_pixels=255)
    assert load_image(tmp_path / "small.png", max_pixels=256).shape == (1, 27, 27)
    with pytest.raises(TypeError, match=r"max_pixels must be an int, got 2.5"):
        load_image(tmp_path / "small.png", max_pixels=2.5)
