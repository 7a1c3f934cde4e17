"""File reading: MNIST IDX files and photos, returned as numpy arrays (no I/O elsewhere).

>>> one_hot([3, 6, 3], classes=(3, 6))
array([[1., 0.],
       [0., 1.],
       [1., 0.]])

Only numpy is needed for IDX files; :func:`load_image` and :func:`sample_image` need the
optional extras Pillow and matplotlib (``pip install "symcnn[plots]"``), imported lazily.
"""

from __future__ import annotations

import gzip
import math
import os
import warnings
import zlib
from pathlib import Path

import numpy as np

from .checks import check_bool, check_int, check_path, is_int

__all__ = ["load_image", "load_mnist", "mnist_directory", "one_hot", "read_idx", "sample_image", "split"]

# The IDX header: two zero bytes, a type code, the number of dimensions, then one
# big-endian uint32 size per dimension; the data follows in row-major order, big-endian.
_IDX_TYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"
# magic number = type code * 256 + number of dims: unsigned bytes with 3 dims
# (N, rows, columns) for images, 1 dim (N,) for labels.
_IMAGES_MAGIC = 0x0803  # 2051
_LABELS_MAGIC = 0x0801  # 2049
_EXTRAS_HINT = 'pip install "symcnn[plots]"'
#: :func:`read_idx` and :func:`load_mnist` refuse a file whose header declares more data bytes
#: than this (1 GiB; MNIST's training images are 47 MB), before reading any of it; a
#: gzipped file is decompressed as a stream and never past the declared size + 1 byte.
MAX_IDX_BYTES = 2 ** 30
#: :func:`load_image` refuses an image of more pixels than this (width x height read from its
#: header, before decoding): 50 million, a 50-megapixel photo. Pillow's own limit
#: (``PIL.Image.MAX_IMAGE_PIXELS``) applies too and is reported the same way.
MAX_IMAGE_PIXELS = 50_000_000


def read_idx(path, max_bytes=None) -> np.ndarray:
    """Read an IDX file, gzipped or raw, into an array of the header's type and shape.

    >>> import tempfile
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = Path(folder.name) / "tiny-idx2-ubyte"
    >>> header = bytes([0, 0, 0x08, 2]) + np.array([2, 3], ">u4").tobytes()
    >>> _ = path.write_bytes(header + bytes(range(6)))
    >>> read_idx(path)
    array([[0, 1, 2],
           [3, 4, 5]], dtype=uint8)
    >>> folder.cleanup()

    Parameters: ``path`` (str or path-like) of the file; ``max_bytes``: the most data bytes
    a header may declare (None: :data:`MAX_IDX_BYTES`, 1 GiB). Gzip is recognised by its
    magic bytes 1f 8b, whatever the file's name, and decompressed as a stream: never more
    than the declared bytes + 1 are read. The result is a writable native-endian copy.
    Raises ValueError naming the file when it is missing, is not valid gzip, has a bad
    header, declares more than ``max_bytes``, or holds more or fewer data bytes than its
    header announces.
    """
    return _read_idx(path, max_bytes)[1]


def _read_idx(path, max_bytes=None) -> tuple[int, np.ndarray]:
    """(magic number, array) of an IDX file; see :func:`read_idx`."""
    path = check_path(path, "path")
    max_bytes = MAX_IDX_BYTES if max_bytes is None else check_int(max_bytes, "max_bytes", minimum=0)
    try:
        with path.open("rb") as file:
            gzipped = file.read(2) == _GZIP_MAGIC
            file.seek(0)
            stream = gzip.GzipFile(fileobj=file, mode="rb") if gzipped else file
            return _parse_idx(lambda count: _read_at_most(stream, count, path, gzipped), path, max_bytes)
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file") from None
    except OSError as error:
        raise ValueError(f"{path}: cannot read ({error.strerror or error})") from None


def _read_at_most(stream, count: int, path: Path, gzipped: bool) -> bytes:
    try:
        return stream.read(count)
    except (OSError, EOFError, zlib.error) as error:
        if not gzipped:
            raise
        # BadGzipFile (an OSError) for a bad CRC or header, zlib.error for a damaged
        # stream, EOFError for a cut-off one.
        raise ValueError(f"{path}: corrupted gzip data ({error})") from None


def _parse_idx(read, path: Path, max_bytes: int) -> tuple[int, np.ndarray]:
    """(magic number, array) from ``read(count)``, which returns at most ``count`` bytes."""
    start = read(4)
    if len(start) < 4:
        raise ValueError(f"{path}: too short for an IDX header (at least 4 bytes, found {len(start)})")
    if start[0] != 0 or start[1] != 0:
        raise ValueError(f"{path}: not an IDX file (the first two bytes must be zero, "
                         f"found {start[0]:#04x} {start[1]:#04x})")
    type_code, ndim = start[2], start[3]
    if type_code not in _IDX_TYPES:
        known = ", ".join(f"{code:#04x} ({dtype.name})" for code, dtype in _IDX_TYPES.items())
        raise ValueError(f"{path}: unsupported IDX type code {type_code:#04x} (known: {known})")
    if ndim == 0:
        raise ValueError(f"{path}: IDX header declares 0 dimensions (at least 1 needed)")
    sizes = read(4 * ndim)
    if len(sizes) < 4 * ndim:
        raise ValueError(f"{path}: truncated IDX header ({ndim} dims need {4 + 4 * ndim} bytes, "
                         f"file has {4 + len(sizes)})")

    shape = tuple(int(size) for size in np.frombuffer(sizes, ">u4"))
    dtype = _IDX_TYPES[type_code]
    expected = math.prod(shape) * dtype.itemsize  # Python ints: no overflow
    if expected > max_bytes:
        raise ValueError(f"{path}: header declares shape {shape} of {dtype.name}, i.e. {expected:,} data "
                         f"bytes, more than max_bytes={max_bytes:,} (symcnn.data.MAX_IDX_BYTES); nothing "
                         "was read. Pass a larger max_bytes if the file is really that big")
    data = read(expected + 1)  # one byte more tells a too-long file, without reading the rest
    if len(data) != expected:
        problem, found = ("truncated", len(data)) if len(data) < expected else ("too long", "more")
        raise ValueError(f"{path}: {problem}: header says shape {shape} of {dtype.name}, "
                         f"i.e. {expected} data bytes, but the file has {found}")
    array = np.frombuffer(data, dtype).reshape(shape)
    magic = type_code * 256 + ndim
    return magic, array.astype(dtype.newbyteorder("="))


def load_mnist(directory, prefix: str = "t10k", classes=None, crop=None,
               scale: bool = True, max_bytes=None) -> tuple[np.ndarray, np.ndarray]:
    """Load an MNIST images/labels pair from a directory as (N, 1, H, W) float64 and (N,) int64.

    >>> import tempfile
    >>> folder = tempfile.TemporaryDirectory()
    >>> def write(name, type_and_dims, shape, values):
    ...     header = bytes([0, 0, *type_and_dims]) + np.array(shape, ">u4").tobytes()
    ...     _ = (Path(folder.name) / name).write_bytes(header + bytes(values))
    >>> write("t10k-images-idx3-ubyte", (8, 3), (3, 2, 2), [0, 255, 51, 102] * 3)
    >>> write("t10k-labels-idx1-ubyte", (8, 1), (3,), [7, 2, 7])
    >>> images, labels = load_mnist(folder.name)
    >>> images.shape, labels
    ((3, 1, 2, 2), array([7, 2, 7]))
    >>> images[0, 0]
    array([[0. , 1. ],
           [0.2, 0.4]])
    >>> images, labels = load_mnist(folder.name, classes=(7,), crop=(1, 2))
    >>> images.shape, labels
    ((2, 1, 1, 2), array([7, 7]))
    >>> folder.cleanup()

    Parameters:
    ``directory`` (str or path-like) holding ``{prefix}-images-idx3-ubyte`` and
    ``{prefix}-labels-idx1-ubyte``, each raw or gzipped with a ``.gz`` suffix (the raw
    file is used when both exist);
    ``prefix``: ``"t10k"`` (test set) or ``"train"``;
    ``classes``: optional iterable of labels to keep, e.g. ``(3, 6)``; the original order
    is kept, and each class must occur in the labels file;
    ``crop``: optional (height, width) of the top-left crop, e.g. ``(27, 27)`` drops the
    last row and column of MNIST's 28x28;
    ``scale``: divide the pixels by 255 so they lie in [0, 1] (else 0..255, still float64);
    ``max_bytes``: the most data bytes each file's header may declare (see :func:`read_idx`).

    Raises ValueError naming the path for a missing directory or file, a wrong magic
    number, disagreeing image and label counts, an unknown class, a crop larger than the
    image, or an empty result; TypeError for arguments of the wrong type.
    """
    directory = check_path(directory, "directory")
    if not isinstance(prefix, str):
        raise TypeError(f"prefix must be a str such as 't10k', got {type(prefix).__name__}")
    names, looked_for = _mnist_names(prefix)
    if not directory.is_dir():
        raise ValueError(f"MNIST directory {directory} does not exist or is not a directory "
                         f"(looked for {looked_for} in it)")
    scale = check_bool(scale, "scale")
    images_path, labels_path = (_find_file(directory, name, looked_for) for name in names)

    images_magic, images = _read_idx(images_path, max_bytes)
    _check_magic(images_path, images_magic, _IMAGES_MAGIC, "images (uint8, 3 dims)")
    labels_magic, labels = _read_idx(labels_path, max_bytes)
    _check_magic(labels_path, labels_magic, _LABELS_MAGIC, "labels (uint8, 1 dim)")
    if len(images) != len(labels):
        raise ValueError(f"count mismatch: {images_path} has {len(images)} images but "
                         f"{labels_path} has {len(labels)} labels")

    if classes is not None:
        wanted = _class_values(classes)
        present = set(labels.tolist())
        unknown = [value for value in wanted if value not in present]
        if unknown:
            raise ValueError(f"unknown class(es) {unknown}: {labels_path} holds labels {sorted(present)}")
        keep = np.isin(labels, wanted)  # a mask keeps the original order
        images, labels = images[keep], labels[keep]

    if crop is not None:
        height, width = _pair_of_positive_ints(crop, "crop")
        if height > images.shape[1] or width > images.shape[2]:
            raise ValueError(f"crop {(height, width)} is larger than the images "
                             f"({images.shape[1]}x{images.shape[2]})")
        images = images[:, :height, :width]

    if len(images) == 0:
        raise ValueError(f"no images left in {images_path} (classes={classes!r})")
    images = images[:, np.newaxis].astype(np.float64)  # (N, 1, H, W): one channel
    if scale:
        images /= 255.0
    return images, labels.astype(np.int64)


def _mnist_names(prefix: str) -> tuple[tuple[str, str], str]:
    """The images and labels file names for ``prefix``, and how to say what was looked for."""
    names = (f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte")
    return names, " and ".join(f"{name}[.gz]" for name in names)


def _existing(directory: Path, name: str) -> Path | None:
    """``directory/name`` or ``directory/name.gz``, whichever is a file, else None."""
    return next((candidate for candidate in (directory / name, directory / f"{name}.gz") if candidate.is_file()), None)


def _find_file(directory: Path, name: str, looked_for: str) -> Path:
    found = _existing(directory, name)
    if found is None:
        raise ValueError(f"{directory}: no file {name} or {name}.gz (looked for {looked_for})")
    return found


def _check_magic(path: Path, magic: int, expected: int, what: str) -> None:
    if magic != expected:
        raise ValueError(f"{path}: wrong magic number {magic} (expected {expected} for MNIST {what})")


def one_hot(labels, classes=None) -> np.ndarray:
    """Encode integer labels as rows of a float64 (N, K) identity: row n has a 1 in column k(label n).

    >>> one_hot([0, 2, 1])
    array([[1., 0., 0.],
           [0., 0., 1.],
           [0., 1., 0.]])
    >>> one_hot([1], classes=4)
    array([[0., 1., 0., 0.]])

    Parameters: ``labels``, a 1-D sequence of integers; ``classes``: ``None`` (K = largest
    label + 1, labels 0..K-1), an int K (labels must lie in 0..K-1), or a sequence of
    distinct class values, column k standing for ``classes[k]`` (``(3, 6)`` maps 3 to
    [1, 0] and 6 to [0, 1]). Raises ValueError for labels out of range or not among the
    classes, TypeError for non-integer labels.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must be 1-D, got shape {labels.shape}")
    if labels.size and not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"labels must be integers, got dtype {labels.dtype}")
    labels = labels.astype(np.int64)

    if classes is None or is_int(classes):
        if classes is None:
            if labels.size == 0:
                raise ValueError("cannot infer the number of classes from no labels; pass classes")
            count = int(labels.max()) + 1
        else:
            count = int(classes)
            if count < 1:
                raise ValueError(f"classes must be >= 1, got {count}")
        outside = labels[(labels < 0) | (labels >= count)]
        if outside.size:
            raise ValueError(f"labels out of range 0..{count - 1}: {sorted(set(outside.tolist()))}")
        columns = labels
    else:
        values = np.asarray(_class_values(classes), dtype=np.int64)
        count = len(values)
        if count == 0:
            raise ValueError("classes is empty")
        if len(set(values.tolist())) != count:
            raise ValueError(f"classes must be distinct, got {values.tolist()}")
        # column of each label: position of the label in the sorted classes, mapped back
        # through the sorting permutation to its position in ``classes``
        order = np.argsort(values, kind="stable")
        position = np.clip(np.searchsorted(values[order], labels), 0, count - 1)
        missing = labels[values[order][position] != labels]
        if missing.size:
            raise ValueError(f"labels out of range: {sorted(set(missing.tolist()))} "
                             f"are not among classes {values.tolist()}")
        columns = order[position]

    encoded = np.zeros((len(labels), count))
    encoded[np.arange(len(labels)), columns] = 1.0
    return encoded


def split(images, labels, train, test):
    """Split into a training and a test set by index ranges [start, stop).

    >>> images, labels = np.arange(10).reshape(5, 2), np.array([0, 1, 0, 1, 1])
    >>> (train_x, train_y), (test_x, test_y) = split(images, labels, train=(0, 3), test=(3, 5))
    >>> train_y, test_x
    (array([0, 1, 0]), array([[6, 7],
           [8, 9]]))

    Parameters: ``images`` and ``labels``, indexed along their first axis (same length);
    ``train`` and ``test``: (start, stop) pairs of ints with 0 <= start < stop <= N, not
    overlapping (a test set that shares samples with the training set measures nothing),
    e.g. ``train=(0, 1000), test=(9000, 10000)``.
    Returns ``(train_images, train_labels), (test_images, test_labels)``, views of the
    inputs. Raises ValueError for bad or overlapping ranges or unequal lengths.
    """
    if len(images) != len(labels):
        raise ValueError(f"images and labels differ in length: {len(images)} vs {len(labels)}")
    count = len(images)
    ranges = {}
    for name, pair in (("train", train), ("test", test)):
        start, stop = _pair_of_ints(pair, name)
        if not 0 <= start < stop <= count:
            raise ValueError(f"{name} range {(start, stop)} must satisfy 0 <= start < stop <= {count} "
                             f"(non-empty and inside the data)")
        ranges[name] = (start, stop)
    (train_start, train_stop), (test_start, test_stop) = ranges["train"], ranges["test"]
    if train_start < test_stop and test_start < train_stop:
        raise ValueError(f"train range {ranges['train']} and test range {ranges['test']} overlap")
    return ((images[train_start:train_stop], labels[train_start:train_stop]),
            (images[test_start:test_stop], labels[test_start:test_stop]))


def load_image(path, size=(27, 27), channel: int = 0, max_pixels=None) -> np.ndarray:
    """Read a PNG/JPEG photo as a float64 (1, H, W) array in [0, 1]: one colour channel, resized.

    >>> import tempfile
    >>> from PIL import Image
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = Path(folder.name) / "red.png"
    >>> Image.new("RGB", (8, 6), (255, 0, 51)).save(path)
    >>> load_image(path, size=(3, 4)).shape
    (1, 3, 4)
    >>> float(load_image(path, size=(3, 4))[0, 0, 0]), float(load_image(path, channel=2).max())
    (1.0, 0.2)
    >>> folder.cleanup()

    Parameters: ``path`` (str or path-like); ``size``: (height, width) after Pillow's
    bilinear resize; ``channel``: the colour channel kept (0 = red, as the reference does;
    a grayscale image has only channel 0). Palette, bilevel, CMYK and other 8-bit modes
    are converted to RGB(A) first; 16-bit and float images are refused (dividing by 255
    would not give [0, 1]); ``max_pixels``: the most pixels (width x height, read from the
    file's header before anything is decoded) an image may have (None:
    :data:`MAX_IMAGE_PIXELS`, 50 million). Raises ValueError naming the path for a missing
    or non-image file or one beyond ``max_pixels`` or Pillow's own decompression-bomb limit;
    ImportError if Pillow is not installed.
    """
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:
        raise ImportError(f"load_image needs Pillow: {_EXTRAS_HINT}") from None
    path = check_path(path, "path")
    height, width = _pair_of_positive_ints(size, "size")
    if not is_int(channel):
        raise TypeError(f"channel must be an int, got {type(channel).__name__}")
    max_pixels = MAX_IMAGE_PIXELS if max_pixels is None else check_int(max_pixels, "max_pixels")
    if not path.is_file():
        raise ValueError(f"{path}: no such image file")
    try:
        with warnings.catch_warnings():  # Pillow warns (and later refuses) on huge images: one error
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:  # reads the header only
                columns, rows = image.size
                if columns * rows > max_pixels:
                    raise ValueError(f"{path}: {columns}x{rows} = {columns * rows:,} pixels, more than "
                                     f"max_pixels={max_pixels:,} (symcnn.data.MAX_IMAGE_PIXELS); nothing was "
                                     "decoded. Pass a larger max_pixels if the image is really that big")
                image.load()  # decode now, so a damaged file fails here, inside the try
                image = _eight_bit(image, path)
                resized = image.resize((width, height), Image.Resampling.BILINEAR)  # Pillow takes (w, h)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ValueError(f"{path}: too many pixels to decode safely ({error}; Pillow's limit is "
                         "PIL.Image.MAX_IMAGE_PIXELS)") from None
    except UnidentifiedImageError:
        raise ValueError(f"{path}: not an image file Pillow can read") from None
    except OSError as error:
        raise ValueError(f"{path}: cannot read image ({error})") from None

    pixels = np.asarray(resized, dtype=np.float64)
    if pixels.ndim == 2:  # single-band image (mode "L"): add the channel axis
        pixels = pixels[:, :, np.newaxis]
    channels = pixels.shape[2]
    if not 0 <= channel < channels:
        raise ValueError(f"channel {channel} out of range: {path} has {channels} channel(s) "
                         f"(mode {resized.mode})")
    return pixels[np.newaxis, :, :, channel] / 255.0


def _eight_bit(image, path: Path):
    """The image in L, LA, RGB or RGBA, each band 0..255."""
    if image.mode in ("L", "LA", "RGB", "RGBA"):
        return image
    if image.mode in ("I", "F") or image.mode.startswith("I;"):
        raise ValueError(f"{path}: unsupported image mode {image.mode} (8 bits per channel needed)")
    transparent = "A" in image.mode.upper() or "transparency" in image.info
    return image.convert("RGBA" if transparent else "RGB")


def sample_image(size=(27, 27)) -> np.ndarray:
    """A real photo available offline: Grace Hopper from matplotlib's sample data, (1, H, W) in [0, 1].

    >>> photo = sample_image((27, 27))
    >>> photo.shape, bool(0.0 <= photo.min() < photo.max() <= 1.0)
    ((1, 27, 27), True)

    Parameters: ``size``: (height, width) passed to :func:`load_image`, which keeps the
    first colour channel. Raises ImportError if matplotlib or Pillow is not installed.
    """
    try:
        from matplotlib import cbook
    except ImportError:
        raise ImportError(f"sample_image needs matplotlib: {_EXTRAS_HINT}") from None
    # asfileobj=False asks for the path (every matplotlib >= 3.7 returns one); a file
    # object, should a version return one anyway, is closed and its name used.
    found = cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
    if hasattr(found, "read"):
        found.close()
        found = found.name
    return load_image(found, size=size, channel=0)



def _class_values(classes) -> list[int]:
    """The integer class values of an iterable, e.g. (3, 6) -> [3, 6]."""
    if isinstance(classes, (str, bytes)) or not hasattr(classes, "__iter__"):
        raise TypeError(f"classes must be an iterable of ints such as (3, 6), got {classes!r}")
    values = list(classes)
    if not all(is_int(value) for value in values):
        raise TypeError(f"classes must be ints, got {values!r}")
    return [int(value) for value in values]


def _pair_of_ints(pair, name: str) -> tuple[int, int]:
    if isinstance(pair, (str, bytes)) or not hasattr(pair, "__len__") or len(pair) != 2:
        raise TypeError(f"{name} must be a pair of ints, got {pair!r}")
    if not all(is_int(value) for value in pair):
        raise TypeError(f"{name} must be a pair of ints, got {pair!r}")
    return int(pair[0]), int(pair[1])


def _pair_of_positive_ints(pair, name: str) -> tuple[int, int]:
    first, second = _pair_of_ints(pair, name)
    if first < 1 or second < 1:
        raise ValueError(f"{name} must be positive (height, width), got {(first, second)}")
    return first, second


#: The environment variable naming the directory of the MNIST IDX files (used by the notebooks).
MNIST_ENVIRONMENT_VARIABLE = "SYMCNN_MNIST"


def mnist_directory(directory=None, prefix: str = "t10k") -> Path:
    """Where the MNIST IDX files are: ``directory`` if given, else the ``SYMCNN_MNIST`` environment variable.

    >>> import os, tempfile
    >>> from unittest import mock
    >>> folder = tempfile.TemporaryDirectory()
    >>> for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte"):
    ...     _ = (Path(folder.name) / name).write_bytes(b"")
    >>> mnist_directory(folder.name) == Path(folder.name)
    True
    >>> with mock.patch.dict(os.environ, {"SYMCNN_MNIST": folder.name}):
    ...     mnist_directory() == Path(folder.name)
    True
    >>> with mock.patch.dict(os.environ, {"SYMCNN_MNIST": ""}):
    ...     mnist_directory()
    Traceback (most recent call last):
    FileNotFoundError: no MNIST directory given: set the environment variable SYMCNN_MNIST to the directory holding t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz], or pass it (mnist_directory("DIR"))
    >>> folder.cleanup()

    Parameters: ``directory`` (str or path-like, or None to read ``SYMCNN_MNIST``);
    ``prefix`` of the files looked for (``"t10k"`` or ``"train"``, as :func:`load_mnist`).
    Returns the directory as a ``Path``. Raises FileNotFoundError saying to set
    ``SYMCNN_MNIST`` or pass the directory when neither is given, or when the directory
    does not hold both IDX files (raw or ``.gz``).
    """
    names, looked_for = _mnist_names(prefix)
    if directory is None:
        found = os.environ.get(MNIST_ENVIRONMENT_VARIABLE, "")
        if not found:
            raise FileNotFoundError(f"no MNIST directory given: set the environment variable "
                                    f"{MNIST_ENVIRONMENT_VARIABLE} to the directory holding {looked_for}, "
                                    f'or pass it (mnist_directory("DIR"))')
        source = f"from {MNIST_ENVIRONMENT_VARIABLE}"
        directory = Path(found).expanduser()
    else:
        directory = check_path(directory, "directory").expanduser()
        source = "as passed"
    missing = [name for name in names if _existing(directory, name) is None]
    if missing:
        raise FileNotFoundError(f"the MNIST directory {directory} ({source}) does not hold {' or '.join(missing)} (raw or .gz); "
                                f"set {MNIST_ENVIRONMENT_VARIABLE} or pass the directory that holds {looked_for}")
    return directory
