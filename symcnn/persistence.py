"""Saving and loading networks: one file, written atomically, checked when read back.

A saved network keeps everything needed to continue exactly where it stopped: the input
shape, every layer's constructor arguments, the loss, the seed, the naming scheme, every
parameter (float64, bit for bit) and the training history.

>>> import os, tempfile
>>> import numpy as np
>>> import symcnn as sc
>>> folder = tempfile.TemporaryDirectory()
>>> path = os.path.join(folder.name, "tiny.symcnn")
>>> net = sc.Network((1, 4, 4), [sc.Conv2D(2, 3, activation="relu"), sc.Flatten(),
...                              sc.Dense(2, activation="softmax")], loss="cross_entropy", seed=3)
>>> save(net, path)
>>> again = load(path, sc.Network)
>>> all(np.array_equal(again.params[key], value) for key, value in net.params.items())
True
>>> folder.cleanup()

File format, version 2 (integers little-endian)::

    offset    size  content
    0         8     magic bytes 89 'SYMCNN' 0a (a high-bit byte and a newline, as in PNG,
                    so that text-mode or 7-bit transfers show up as a wrong magic)
    8         4     format version, uint32
    12        8     header length H, uint64
    20        H     header, UTF-8 JSON (below)
    20 + H    P     payload: the arrays listed in the header, float64 little-endian,
                    C order, one after another (P = 8 x their total size)
    20 + H + P 32   SHA-256 of every byte before it

The header is ``{"format": "symcnn.Network", "symcnn_version": ..., "input_shape": [C, H, W],
"layers": [{"type": "Conv2D", "config": {...}}, ...], "loss": ..., "seed": ...,
"naming": ..., "arrays": [{"name": "params/conv1.weight", "shape": [...]}, ...,
{"name": "history", "shape": [n]}]}``; a layer's ``config`` is its
:meth:`~symcnn.layers.Layer.config`. ``accuracy_history`` is stored like ``history`` when
the network has one.

Version 2 adds user-defined mathematics: a layer's ``"activation"`` or the ``"loss"`` may
be ``{"defined": "activation" | "loss", "name": ..., "latex": ..., "expression": [...]}``,
the expression written by :func:`symcnn.expressions.to_structure` and rebuilt by
:func:`symcnn.expressions.from_structure` from its allow-list of node types and the
symbols z (an activation) or p, t (a loss); anything else is refused. A network without
user-defined mathematics is written as version 1, which older symcnns read.

Every later format version keeps the magic, the version field and the closing SHA-256
where they are, so any symcnn tells a damaged file (checksum mismatch) from a newer one
(version above :data:`FORMAT_VERSION`) and refuses both with a ``ValueError`` that says which.

Writing is atomic: the bytes go to a temporary file in the target's directory, which is
flushed and fsync-ed, then renamed over the target with ``os.replace`` (and the directory
fsync-ed). A save that fails or is killed midway leaves the previous file untouched; it
may leave a ``.<name>.<random>.partial`` file behind, which is safe to delete.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import secrets
import struct
from pathlib import Path

import numpy as np

from .activations import Z, Activation
from .checks import check_path, is_int
from .expressions import from_structure, to_structure
from .graph import check_build_budget
from .layers import LAYER_TYPES, layer_from_config
from .losses import P, T, Loss
from .version import __version__

MAGIC = b"\x89SYMCNN\n"
#: The newest file format version this symcnn writes (2 only for user-defined mathematics);
#: it reads every version up to this one.
FORMAT_VERSION = 2
#: The version of a file without user-defined activations or losses.
PLAIN_FORMAT_VERSION = 1
_VERSION_AND_LENGTH = struct.Struct("<IQ")  # format version (uint32), header length (uint64)
_DIGEST_BYTES = hashlib.sha256().digest_size
_ARRAY_DTYPE = np.dtype("<f8")
_FORMAT_NAME = "symcnn.Network"


def _arrays_of(net) -> dict[str, np.ndarray]:
    """{name in the file: float64 array}: parameters, then the histories."""
    arrays = {}
    for key, value in net.params.items():
        if not np.all(np.isfinite(value)):
            raise ValueError(f"cannot save: parameter {key!r} contains NaN or infinite values "
                             "(training diverged; a smaller learning rate may help)")
        arrays[f"params/{key}"] = value
    arrays["history"] = np.asarray(net.history, dtype=np.float64)
    if getattr(net, "accuracy_history", None) is not None:
        arrays["accuracy_history"] = np.asarray(net.accuracy_history, dtype=np.float64)
    return arrays


#: What each kind of user-defined mathematics is, and the symbols its expression may hold.
_DEFINED = {"activation": (Activation, {"z": Z}), "loss": (Loss, {"p": P, "t": T})}
_DEFINED_FIELDS = {"defined", "name", "latex", "expression"}


def _math_description(math_object):
    """A user-defined activation or loss as JSON-able data; a built-in name (or None) as itself."""
    for kind, (cls, _) in _DEFINED.items():
        if isinstance(math_object, cls):
            return {"defined": kind, "name": math_object.name, "latex": math_object.latex,
                    "expression": to_structure(math_object.expression, f"{kind} {math_object.name!r}")}
    return math_object


def _math_from_description(description, kind: str, where: str):
    """The :class:`Activation` or :class:`Loss` a header entry describes; built from data only."""
    if not isinstance(description, dict):
        return description  # a built-in name: checked where it is used
    cls, symbols = _DEFINED[kind]
    if set(description) != _DEFINED_FIELDS or description["defined"] != kind:
        raise ValueError(f"{where}: a user-defined {kind} must be {{'defined': {kind!r}, 'name', 'latex', "
                         f"'expression'}}, got the fields {sorted(map(str, description))[:8]}")
    name, latex = description["name"], description["latex"]
    if not isinstance(name, str) or not isinstance(latex, str):
        raise ValueError(f"{where}: the {kind}'s name and latex must be strs")
    expression = from_structure(description["expression"], symbols, f"{where}: {kind} {name[:40]!r}")
    return cls(name, lambda *variables: expression, latex)  # checked again like a user's own


def _layer_description(position: int, layer) -> dict:
    layer_type = type(layer).__name__
    if LAYER_TYPES.get(layer_type) is not type(layer):
        raise ValueError(f"cannot save layers[{position}]: {layer_type} is not a symcnn layer type "
                         f"({', '.join(LAYER_TYPES)})")
    config = layer.config()
    if "activation" in config:
        config["activation"] = _math_description(config["activation"])
    return {"type": layer_type, "config": config}


def _holds_defined_math(header: dict) -> bool:
    return isinstance(header["loss"], dict) or any(isinstance(layer["config"].get("activation"), dict)
                                                   for layer in header["layers"])


def encode(net) -> list[bytes]:
    """The file's bytes for ``net``, as a list of pieces (so a big model is never copied whole).

    >>> import symcnn as sc
    >>> pieces = encode(sc.Network((1, 2, 2), [sc.Flatten(), sc.Dense(1, activation="sigmoid")]))
    >>> pieces[0][:8] == MAGIC, len(pieces[-1])
    (True, 32)

    Parameters: ``net``, a :class:`~symcnn.network.Network`. Raises ``ValueError`` for
    non-finite parameters or a layer type that cannot be rebuilt.
    """
    arrays = _arrays_of(net)
    header = {
        "format": _FORMAT_NAME,
        "symcnn_version": __version__,
        "input_shape": list(net.input_shape),
        "layers": [_layer_description(position, layer) for position, layer in enumerate(net.layers)],
        "loss": _math_description(net.loss_name),
        "seed": net.seed,
        "naming": net.naming,
        "arrays": [{"name": name, "shape": list(array.shape)} for name, array in arrays.items()],
    }
    header_bytes = json.dumps(header, allow_nan=False).encode("utf-8")
    version = FORMAT_VERSION if _holds_defined_math(header) else PLAIN_FORMAT_VERSION
    pieces = [MAGIC + _VERSION_AND_LENGTH.pack(version, len(header_bytes)), header_bytes]
    pieces += [np.ascontiguousarray(array, dtype=_ARRAY_DTYPE).tobytes() for array in arrays.values()]
    digest = hashlib.sha256()
    for piece in pieces:
        digest.update(piece)
    return pieces + [digest.digest()]


def _write_pieces(file, pieces) -> None:
    for piece in pieces:
        file.write(piece)


def _create_temporary(directory: Path, name: str) -> tuple[int, Path]:
    """A new, empty file next to the target (same file system, so the rename is atomic)."""
    while True:
        temporary = directory / f".{name}.{secrets.token_hex(4)}.partial"
        try:
            # mode 0o666 minus the umask: the saved file gets the permissions of any new file
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
            return os.open(temporary, flags, 0o666), temporary
        except FileExistsError:
            continue


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX; Windows has no directory handles to sync)."""
    if os.name != "posix":
        return
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def save(net, path) -> None:
    """Write ``net`` to ``path`` atomically: the file at ``path`` is the old one or the new one, never a mix.

    >>> import os, tempfile, symcnn as sc
    >>> folder = tempfile.TemporaryDirectory()
    >>> save(sc.presets.network_a(), os.path.join(folder.name, "a.symcnn"))
    >>> os.listdir(folder.name)
    ['a.symcnn']
    >>> folder.cleanup()

    Parameters: ``net``, a :class:`~symcnn.network.Network`; ``path`` (str or path-like)
    of the file, whose directory must exist (the suffix ``.symcnn`` is a convention).
    Raises ``FileNotFoundError`` for a missing directory, ``ValueError`` for a path that
    is a directory or a network that cannot be saved (see :func:`encode`).
    """
    path = check_path(path, "path")
    directory = path.parent
    if not directory.is_dir():
        raise FileNotFoundError(f"cannot save to {path}: the directory {directory} does not exist")
    if path.is_dir():
        raise ValueError(f"cannot save to {path}: it is a directory; give a file name such as {path / 'net.symcnn'}")
    pieces = encode(net)
    descriptor, temporary = _create_temporary(directory, path.name)
    try:
        with os.fdopen(descriptor, "wb") as file:
            _write_pieces(file, pieces)
            file.flush()
            os.fsync(file.fileno())  # the bytes are on disk before the name points at them
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _fsync_directory(directory)


def _header_and_payload(raw: bytes, path: Path) -> tuple[dict, memoryview]:
    """(header, payload) of a file's bytes, after checking magic, checksum and version."""
    smallest = len(MAGIC) + _VERSION_AND_LENGTH.size + _DIGEST_BYTES
    if not raw.startswith(MAGIC) and not MAGIC.startswith(raw):  # (a file cut inside the magic is truncated)
        raise ValueError(f"{path} is not a saved symcnn network (it does not start with the symcnn "
                         f"magic bytes {MAGIC!r}, but with {bytes(raw[:len(MAGIC)])!r})")
    if len(raw) < smallest or hashlib.sha256(memoryview(raw)[:-_DIGEST_BYTES]).digest() != raw[-_DIGEST_BYTES:]:
        raise ValueError(f"{path} is truncated or corrupted: its SHA-256 checksum does not match its "
                         f"contents ({len(raw):,} bytes); save the network again or use a backup")
    version, header_length = _VERSION_AND_LENGTH.unpack_from(raw, len(MAGIC))
    if version > FORMAT_VERSION:
        raise ValueError(f"{path} was written in symcnn file format version {version}; this symcnn "
                         f"({__version__}) reads versions up to {FORMAT_VERSION}: upgrade symcnn to load it")
    if version < 1:
        raise ValueError(f"{path} declares an unknown file format version {version}")
    start = len(MAGIC) + _VERSION_AND_LENGTH.size
    view = memoryview(raw)[:-_DIGEST_BYTES]
    try:
        header = json.loads(bytes(view[start:start + header_length]).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise ValueError(f"{path}: unreadable header ({type(error).__name__}: {error})") from None
    if not isinstance(header, dict) or header.get("format") != _FORMAT_NAME:
        raise ValueError(f"{path}: the header does not describe a {_FORMAT_NAME}")
    return header, view[start + header_length:]



def _field(header: dict, name: str, path: Path, check, expected: str):
    """``header[name]`` if ``check`` accepts it, else a ValueError naming the field and what was expected."""
    if name not in header:
        raise ValueError(f"{path}: the header has no field {name!r} ({expected} expected)")
    value = header[name]
    if not check(value):
        shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
        raise ValueError(f"{path}: header field {name!r} must be {expected}, got {type(value).__name__} {shown}")
    return value


def _check_header(header: dict, payload_bytes: int, path: Path) -> None:
    """Types of every header field, and the declared array sizes against the bytes present.

    Runs before anything is allocated or built; each refusal names the field.
    """
    _field(header, "input_shape", path, lambda v: isinstance(v, list) and len(v) == 3
           and all(is_int(n) and n >= 1 for n in v), "a list of 3 positive ints")
    layers = _field(header, "layers", path, lambda v: isinstance(v, list) and len(v) > 0,
                    "a non-empty list of layers")
    for position, layer in enumerate(layers):
        if not (isinstance(layer, dict) and isinstance(layer.get("type"), str) and isinstance(layer.get("config"), dict)):
            raise ValueError(f"{path}: header field 'layers'[{position}] must be "
                             f'{{"type": str, "config": dict}}, got {str(layer)[:80]}')
    _field(header, "naming", path, lambda v: isinstance(v, str), "a str")
    _field(header, "loss", path, lambda v: isinstance(v, (str, dict)), "a str or a user-defined loss")
    _field(header, "seed", path, lambda v: v is None or (is_int(v) and v >= 0), "an int >= 0 or null")
    entries = _field(header, "arrays", path, lambda v: isinstance(v, list), "a list of arrays")
    names, declared = set(), 0
    for position, entry in enumerate(entries):
        where = f"header field 'arrays'[{position}]"
        if not (isinstance(entry, dict) and isinstance(entry.get("name"), str)
                and isinstance(entry.get("shape"), list) and all(is_int(n) and n >= 0 for n in entry["shape"])):
            raise ValueError(f"{path}: {where} must be {{\"name\": str, \"shape\": list of ints >= 0}}, "
                             f"got {str(entry)[:80]}")
        name = entry["name"]
        if not (name.startswith("params/") or name in ("history", "accuracy_history")) or name in names:
            raise ValueError(f"{path}: {where} has the {'repeated' if name in names else 'unknown'} name "
                             f"{name!r} (expected params/<key>, history, accuracy_history, each once)")
        if name in ("history", "accuracy_history") and len(entry["shape"]) != 1:
            raise ValueError(f"{path}: {where} ({name}) must be 1-D, got shape {entry['shape']}")
        names.add(name)
        declared += math.prod(entry["shape"]) * _ARRAY_DTYPE.itemsize  # Python ints: no overflow
    if "history" not in names:
        raise ValueError(f"{path}: header field 'arrays' has no 'history' entry")
    if declared > payload_bytes:
        raise ValueError(f"{path}: the payload is shorter than its header announces (the arrays declare "
                         f"{declared:,} bytes, the file holds {payload_bytes:,})")
    if declared < payload_bytes:
        raise ValueError(f"{path}: {payload_bytes - declared} bytes after the last array")


def _arrays_from(header: dict, payload: memoryview) -> dict[str, np.ndarray]:
    """Views of the payload (nothing copied), once :func:`_check_header` has matched the sizes."""
    arrays, offset = {}, 0
    for entry in header["arrays"]:
        count = math.prod(entry["shape"])
        arrays[entry["name"]] = np.frombuffer(payload, _ARRAY_DTYPE, count, offset).reshape(entry["shape"])
        offset += count * _ARRAY_DTYPE.itemsize
    return arrays


def load(path, network_type, max_build_cost=None):
    """Read a network written by :func:`save` (or ``Network.save``), exactly as it was saved.

    Users call :func:`symcnn.load` (:func:`symcnn.network.load`), which passes the network
    class in (this module sits below ``network.py`` and does not import it).

    >>> import os, tempfile, symcnn as sc
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = os.path.join(folder.name, "a.symcnn")
    >>> sc.presets.network_a(seed=4).save(path)
    >>> load(path, sc.Network).seed
    4
    >>> folder.cleanup()

    Parameters: ``path`` (str or path-like); ``network_type`` the class to build
    (:class:`~symcnn.network.Network`); ``max_build_cost``, the budget of the network
    the file describes (None: :data:`symcnn.graph.DEFAULT_MAX_BUILD_COST`, see
    :func:`symcnn.graph.check_build_budget`). Returns a :class:`~symcnn.network.Network`
    with the saved architecture, loss, seed, naming scheme, parameters and ``history``
    (and ``accuracy_history`` if it had one). Raises ``FileNotFoundError`` for a missing
    file and ``ValueError`` for a file that is not a symcnn network, is truncated or
    corrupted, comes from a newer symcnn, has a header field of the wrong type, declares
    arrays that do not match its bytes, or describes a network beyond the budget.

    Nothing in a file is ever run as code: the header is JSON, read with ``json``; layer
    types are looked up in :data:`symcnn.layers.LAYER_TYPES`; user-defined activations and
    losses are rebuilt node by node from an allow-list (:mod:`symcnn.expressions`), never
    parsed; arrays are raw float64.
    """
    path = check_path(path, "path")
    if not path.exists():
        raise FileNotFoundError(f"no saved network at {path}")
    if path.is_dir():
        raise ValueError(f"{path} is a directory, not a saved network file")
    header, payload = _header_and_payload(path.read_bytes(), path)
    _check_header(header, len(payload), path)
    arrays = _arrays_from(header, payload)
    try:  # user-defined mathematics from data only (see symcnn.expressions), before anything is built
        for position, layer in enumerate(header["layers"]):
            if "activation" in layer["config"]:
                layer["config"]["activation"] = _math_from_description(
                    layer["config"]["activation"], "activation", f"header field 'layers'[{position}]")
        loss = _math_from_description(header["loss"], "loss", "header field 'loss'")
    except (TypeError, ValueError) as error:
        raise ValueError(f"{path}: {error}") from None
    try:  # layers and their cost from the header alone, before any symbol or array exists
        layers = [layer_from_config(layer["type"], layer["config"]) for layer in header["layers"]]
        check_build_budget(header["input_shape"], layers, max_build_cost)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{path}: header fields 'input_shape' and 'layers': the saved network cannot be "
                         f"rebuilt ({type(error).__name__}: {error})") from None
    try:
        net = network_type(tuple(header["input_shape"]), layers, loss=loss, seed=header["seed"],
                      naming=header["naming"], max_build_cost=max_build_cost)
        net.set_params({name.split("/", 1)[1]: array for name, array in arrays.items() if name.startswith("params/")})
        net.history = [float(loss) for loss in arrays["history"]]
    except (TypeError, ValueError) as error:
        raise ValueError(f"{path}: the saved network cannot be rebuilt ({type(error).__name__}: {error})") from None
    if "accuracy_history" in arrays:
        net.accuracy_history = [float(accuracy) for accuracy in arrays["accuracy_history"]]
    return net
