"""Names of every scalar in a network: the only place symbol names are made and parsed.

Two schemes exist. ``"symcnn"`` (the default) uses indexed names such as
``w__2_0_0_1_3`` that render as :math:`w^{(2)}_{0,0,1,3}`; ``"r"`` reproduces the
names of the R ``deriv()`` walkthrough (``inp_5``, ``l1m1w3``, ``interm_l1_7``,
``l4w17_1``). Both parse back to a :class:`ScalarName`.

>>> symbol = make_symbol("symcnn", "weight", 2, (0, 0, 1, 3))
>>> symbol.name
'w__2_0_0_1_3'
>>> import sympy
>>> sympy.latex(symbol)
'w^{(2)}_{0,0,1,3}'
>>> parse_name("w__2_0_0_1_3")
ScalarName(kind='weight', layer=2, indices=(0, 0, 1, 3))
>>> make_symbol("r", "weight", 1, (0, 0, 0, 2), shape=(1, 1, 3, 3)).name
'l1m1w3'
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import sympy

from .checks import is_int

#: The kinds of named scalar and the letter each has in the ``"symcnn"`` scheme.
KIND_LETTERS = {
    "input": "x",
    "weight": "w",
    "bias": "b",
    "pre_activation": "z",
    "activation": "a",
    "target": "y",
    "loss": "L",
    "adjoint": "g",
}
#: Symbols of a layer *template*: one generic output position, before instantiation.
TEMPLATE_LETTERS = {
    "input": ("xi", r"\xi"),
    "weight": ("omega", r"\omega"),
    "bias": ("beta", r"\beta"),
    "pre_activation": ("zeta", r"\zeta"),
    "activation": ("alpha", r"\alpha"),
}
SCHEMES = ("symcnn", "r")

_LETTER_KINDS = {letter: kind for kind, letter in KIND_LETTERS.items()}
_TEMPLATE_KINDS = {name: kind for kind, (name, _) in TEMPLATE_LETTERS.items()}
_TEMPLATE_PATTERN = re.compile(r"^(xi|omega|beta|zeta|alpha)((?:_\d+)*)$")
_SYMCNN_PATTERN = re.compile(r"^(?P<letter>[a-zA-Z]+?)(?:__(?P<layer>\d+))?(?P<indices>(?:_\d+)*)$")
_R_PATTERNS = [
    ("input", re.compile(r"^inp_(?P<k>\d+)$")),
    ("weight", re.compile(r"^l(?P<layer>\d+)m(?P<f>\d+)w(?P<k>\d+)$")),
    ("bias", re.compile(r"^l(?P<layer>\d+)m(?P<f>\d+)b$")),
    ("weight", re.compile(r"^l(?P<layer>\d+)w(?P<k>\d+)_(?P<f>\d+)$")),
    ("bias", re.compile(r"^l(?P<layer>\d+)b_(?P<f>\d+)$")),
    ("activation", re.compile(r"^interm_l(?P<layer>\d+)_(?P<k>\d+)$")),
    ("pre_activation", re.compile(r"^preact_l(?P<layer>\d+)_(?P<k>\d+)$")),
    ("target", re.compile(r"^y_(?P<k>\d+)$")),
    ("loss", re.compile(r"^L$")),
]


@dataclass(frozen=True)
class ScalarName:
    """What a symbol name says: its kind, its layer (None for input/target/loss) and indices.

    Indices of the ``"symcnn"`` scheme are the zero-based array indices of the scalar;
    those of the ``"r"`` scheme are the walkthrough's one-based running numbers.
    """

    kind: str
    layer: int | None
    indices: tuple[int, ...]


class NamedScalar(sympy.Symbol):
    """A sympy ``Symbol`` that knows how to print itself as clean indexed LaTeX.

    >>> import sympy
    >>> sympy.latex(NamedScalar("a__3_0_4_5"))
    'a^{(3)}_{0,4,5}'
    """

    def _latex(self, printer):
        return latex_name(self.name)


def latex_name(name: str) -> str:
    """LaTeX for a symbol name of either scheme, or of a layer template.

    >>> latex_name("x_0_2_3"), latex_name("interm_l1_7"), latex_name("xi_0_1_2")
    ('x_{0,2,3}', '\\\\mathtt{interm\\\\_l1\\\\_7}', '\\\\xi_{0,1,2}')
    """
    if name.startswith("g___"):
        return rf"\frac{{\partial L}}{{\partial {latex_name(name[4:])}}}"
    template = _TEMPLATE_PATTERN.match(name)
    if template:
        letter = TEMPLATE_LETTERS[_TEMPLATE_KINDS[template.group(1)]][1]
        indices = template.group(2).strip("_").replace("_", ",")
        return letter + (f"_{{{indices}}}" if indices else "")
    match = _SYMCNN_PATTERN.match(name)
    if match and match.group("letter") in _LETTER_KINDS:
        letter = match.group("letter")
        layer = f"^{{({match.group('layer')})}}" if match.group("layer") else ""
        indices = match.group("indices").strip("_").replace("_", ",")
        return letter + layer + (f"_{{{indices}}}" if indices else "")
    return r"\mathtt{" + name.replace("_", r"\_") + "}"


def text_name(name: str) -> str:
    """Plain (unicode) text for a symbol name of either scheme, for terminals: indices in brackets.

    >>> text_name("w__2_0_0_1_3"), text_name("g___a__3_0_4_5"), text_name("xi_0_1"), text_name("inp_5")
    ('w⁽²⁾[0,0,1,3]', '∂L/∂a⁽³⁾[0,4,5]', 'ξ[0,1]', 'inp_5')
    """
    if name.startswith("g___"):
        return f"∂L/∂{text_name(name[4:])}"
    template = _TEMPLATE_PATTERN.match(name)
    match = template or _SYMCNN_PATTERN.match(name)
    if not match or not (template or match.group("letter") in _LETTER_KINDS):
        return name  # the "r" scheme's names are plain text already
    if template:
        letter, layer, indices = unicodedata.lookup(f"GREEK SMALL LETTER {template.group(1)}"), "", template.group(2)
    else:
        letter, layer, indices = match.group("letter"), match.group("layer"), match.group("indices")
    layer = f"({layer})".translate(_SUPERSCRIPTS) if layer else ""
    indices = indices.strip("_").replace("_", ",")
    return letter + layer + (f"[{indices}]" if indices else "")


_SUPERSCRIPTS = str.maketrans("0123456789()", "⁰¹²³⁴⁵⁶⁷⁸⁹⁽⁾")


def _symcnn_name(kind: str, layer: int | None, indices: tuple[int, ...]) -> str:
    name = KIND_LETTERS[kind]
    if layer is not None:
        name += f"__{layer}"
    return name + "".join(f"_{i}" for i in indices)


def _r_name(kind: str, layer: int | None, indices: tuple[int, ...], shape: tuple[int, ...],
            dense: bool) -> str:
    running = int(np.ravel_multi_index(indices, shape)) + 1 if indices else 1
    if kind == "input":
        return f"inp_{running}"
    if kind == "target":
        return f"y_{running}"
    if kind == "loss":
        return "L"
    if kind in ("activation", "pre_activation"):
        prefix = "interm" if kind == "activation" else "preact"
        return f"{prefix}_l{layer}_{running}"
    if kind == "weight" and len(indices) == 4:  # conv (filter, channel, u, v)
        within_filter = int(np.ravel_multi_index(indices[1:], shape[1:])) + 1
        return f"l{layer}m{indices[0] + 1}w{within_filter}"
    if kind == "weight":  # dense (unit, input)
        return f"l{layer}w{indices[1] + 1}_{indices[0] + 1}"
    if kind == "bias":
        return f"l{layer}b_{indices[0] + 1}" if dense else f"l{layer}m{indices[0] + 1}b"
    raise ValueError(f"the 'r' naming scheme has no name for kind {kind!r}")


def check_scheme(scheme: str) -> str:
    """Return ``scheme`` if it is a known naming scheme, else raise ``ValueError``.

    >>> check_scheme("r")
    'r'
    """
    if scheme not in SCHEMES:
        raise ValueError(f"naming must be one of {SCHEMES}, got {scheme!r}")
    return scheme


def make_symbol(scheme: str, kind: str, layer: int | None, indices: tuple[int, ...],
                shape: tuple[int, ...] = (), dense: bool = False) -> NamedScalar:
    """The symbol of one scalar: ``kind`` in ``layer`` at ``indices`` of an array of ``shape``.

    ``dense`` tells the ``"r"`` scheme that a bias belongs to a dense layer (``l4b_1``)
    rather than a convolution (``l1m1b``).

    >>> make_symbol("symcnn", "activation", 1, (0, 2, 3)).name
    'a__1_0_2_3'
    >>> make_symbol("r", "activation", 1, (0, 2, 3), shape=(1, 25, 25)).name
    'interm_l1_54'
    """
    check_scheme(scheme)
    if kind not in KIND_LETTERS:
        raise ValueError(f"unknown scalar kind {kind!r}; expected one of {sorted(KIND_LETTERS)}")
    indices = tuple(int(i) for i in indices)
    if scheme == "symcnn":
        return NamedScalar(_symcnn_name(kind, layer, indices))
    return NamedScalar(_r_name(kind, layer, indices, tuple(shape), dense))


class SymbolArray:
    """A read-only array of named scalars that makes each symbol only when it is first asked for.

    It indexes, reshapes and iterates like the numpy object array it stands for: one entry
    (``array[0, 2, 3]``, ``array.flat[5]``) makes one symbol and keeps it; a slice, ``list(...)``
    or ``np.asarray(array)`` makes what they cover. ``index_of`` finds a symbol's index from its
    name without making the others; ``made`` counts the symbols made so far (shared by
    reshaped views).

    >>> weights = symbol_array("symcnn", "weight", 1, (8, 3, 5, 5))
    >>> weights[2, 1, 0, 4], weights.made
    (w__1_2_1_0_4, 1)
    >>> weights.reshape(8, -1)[2, 29], weights.index_of(weights.flat[0])
    (w__1_2_1_0_4, (0, 0, 0, 0))
    >>> list(symbol_array("symcnn", "input", None, (1, 1, 2)).flat)
    [x_0_0_0, x_0_0_1]
    """

    dtype = np.dtype(object)
    __hash__ = None  # == compares entry by entry, as numpy does

    def __init__(self, shape, make, locate, store=None):
        self.shape = tuple(int(n) for n in shape)
        self.size = math.prod(self.shape)
        self._strides = tuple(math.prod(self.shape[axis + 1:]) for axis in range(len(self.shape)))
        # the symbols made so far by flat (C-order) index, shared with every reshaped view
        self._store = {} if store is None else store
        self._make, self._locate = make, locate  # both in flat indices

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def made(self) -> int:
        """How many of the symbols exist so far."""
        return len(self._store)

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a 0-d symbol array")
        return self.shape[0]

    def _symbol(self, flat: int):
        symbol = self._store.get(flat)
        if symbol is None:
            symbol = self._store[flat] = self._make(flat)
        return symbol

    def _flat_index(self, key):
        """The flat index of an integer index of every axis, or None if ``key`` is anything else."""
        key = key if type(key) is tuple else (key,)
        if len(key) != len(self.shape):
            return None
        flat = 0
        for axis, (i, n) in enumerate(zip(key, self.shape)):
            if type(i) is not int:
                if not is_int(i):
                    return None
                i = int(i)
            if not -n <= i < n:
                raise IndexError(f"index {i} is out of bounds for axis {axis} with size {n}")
            flat = flat * n + (i % n)
        return flat

    def __getitem__(self, key):
        if type(key) is tuple and len(key) == len(self._strides):  # the common case: one entry, in bounds
            flat = 0
            for i, n, stride in zip(key, self.shape, self._strides):
                if type(i) is not int or not 0 <= i < n:
                    break
                flat += i * stride
            else:
                return self._symbol(flat)
        flat = self._flat_index(key)
        if flat is not None:
            return self._symbol(flat)
        chosen = np.arange(self.size).reshape(self.shape)[key]  # numpy's indexing rules, on flat indices
        if np.ndim(chosen) == 0:
            return self._symbol(int(chosen))
        return self._materialized(chosen)

    def _materialized(self, flat_indices) -> np.ndarray:
        array = np.empty(np.shape(flat_indices), dtype=object)
        for index, flat in np.ndenumerate(flat_indices):
            array[index] = self._symbol(int(flat))
        return array

    def reshape(self, *shape) -> SymbolArray:
        """The same symbols in another shape (C order, ``-1`` allowed), made lazily as well."""
        shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        shape = tuple(int(n) for n in shape)
        if shape.count(-1) > 1:
            raise ValueError("can only specify one unknown dimension")
        if -1 in shape:
            known = math.prod(n for n in shape if n != -1)
            if known == 0 or self.size % known:
                raise ValueError(f"cannot reshape array of size {self.size} into shape {shape}")
            shape = tuple(self.size // known if n == -1 else n for n in shape)
        if math.prod(shape) != self.size:
            raise ValueError(f"cannot reshape array of size {self.size} into shape {shape}")
        return SymbolArray(shape, self._make, self._locate, self._store)

    def ravel(self) -> SymbolArray:
        return self.reshape(-1)

    @property
    def flat(self) -> _FlatSymbols:
        """The symbols in C order: iterate, or index by flat position (``array.flat[0]``)."""
        return _FlatSymbols(self)

    def __iter__(self):
        if not self.shape:
            raise TypeError("iteration over a 0-d symbol array")
        for i in range(self.shape[0]):
            yield self[i]

    def __array__(self, dtype=None, copy=None):
        array = self._materialized(np.arange(self.size).reshape(self.shape))
        return array if dtype is None else array.astype(dtype)

    def tolist(self) -> list:
        return np.asarray(self).tolist()

    def __eq__(self, other):
        return np.asarray(self) == (np.asarray(other) if isinstance(other, SymbolArray) else other)

    def __ne__(self, other):
        return np.logical_not(self.__eq__(other))

    def index_of(self, symbol) -> tuple | None:
        """The index of ``symbol`` in this array, read from its name (None if it is not an entry)."""
        if not isinstance(symbol, sympy.Symbol):
            return None
        flat = self._locate(symbol)
        if flat is None or not 0 <= flat < self.size or self._symbol(flat) != symbol:
            return None
        return tuple(int(i) for i in np.unravel_index(flat, self.shape)) if self.shape else ()

    def __contains__(self, symbol) -> bool:
        return self.index_of(symbol) is not None

    def __repr__(self) -> str:
        if self.size <= 100:
            return "SymbolArray" + repr(np.asarray(self))[len("array"):]
        return f"SymbolArray(shape={self.shape}, {self.made:,} of {self.size:,} symbols made)"


class _FlatSymbols:
    """``SymbolArray.flat``: C-order iteration and flat indexing."""

    def __init__(self, array: SymbolArray):
        self._array = array

    def __len__(self) -> int:
        return self._array.size

    def __iter__(self):
        for flat in range(self._array.size):
            yield self._array._symbol(flat)

    def __getitem__(self, key):
        if is_int(key):
            size = self._array.size
            if not -size <= key < size:
                raise IndexError(f"index {key} is out of bounds for size {size}")
            return self._array._symbol(int(key) % size)
        return self._array._materialized(np.arange(self._array.size)[key])


def _ravel(indices, shape) -> int | None:
    """C-order flat index of ``indices`` in ``shape``, None if they do not fit it."""
    if len(indices) != len(shape) or not all(0 <= i < n for i, n in zip(indices, shape)):
        return None
    flat = 0
    for i, n in zip(indices, shape):
        flat = flat * n + i
    return flat


def _unravel(flat: int, shape) -> tuple[int, ...]:
    indices = []
    for n in reversed(shape):
        flat, i = divmod(flat, n)
        indices.append(i)
    return tuple(reversed(indices))


def _array_indices(scheme: str, kind: str, name: ScalarName, shape: tuple[int, ...]) -> tuple | None:
    """The array indices a parsed name stands for (the "r" scheme writes one-based running numbers)."""
    if scheme == "symcnn" or kind == "loss":
        return name.indices
    if kind == "weight" and len(shape) == 4 and len(name.indices) == 2:  # conv: filter, number within it
        within = name.indices[1] - 1
        return (name.indices[0] - 1, *_unravel(within, shape[1:])) if 0 <= within < math.prod(shape[1:]) else None
    if kind in ("weight", "bias"):  # dense weights: (unit, input); biases: (unit,)
        return tuple(i - 1 for i in name.indices)
    running = name.indices[0] - 1 if len(name.indices) == 1 else -1
    return _unravel(running, shape) if 0 <= running < math.prod(shape) else None


def symbol_array(scheme: str, kind: str, layer: int | None, shape: tuple[int, ...],
                 dense: bool = False) -> SymbolArray:
    """The symbols of every scalar of one kind in one layer, as a :class:`SymbolArray` of ``shape``.

    Nothing is made until asked for; ``np.asarray`` gives the numpy object array of all of them.

    >>> np.asarray(symbol_array("symcnn", "weight", 1, (1, 1, 1, 2)))
    array([[[[w__1_0_0_0_0, w__1_0_0_0_1]]]], dtype=object)
    >>> symbol_array("r", "weight", 4, (1, 648), dense=True).index_of(NamedScalar("l4w17_1"))
    (0, 16)
    """
    check_scheme(scheme)
    shape = tuple(int(n) for n in shape)

    def make(flat):
        return make_symbol(scheme, kind, layer, _unravel(flat, shape), shape, dense)

    def locate(symbol):
        try:
            name = parse_name(symbol.name)
        except ValueError:
            return None
        if name.kind != kind or name.layer != layer:
            return None
        indices = _array_indices(scheme, kind, name, shape)
        return None if indices is None else _ravel(indices, shape)

    return SymbolArray(shape, make, locate)


def adjoint_array(array: SymbolArray) -> SymbolArray:
    """The adjoint symbols dL/d(entry) of every entry of ``array``, made lazily like it.

    >>> adjoint_array(symbol_array("symcnn", "activation", 1, (1, 2, 2)))[0, 1, 0]
    g___a__1_0_1_0
    """
    def make(flat):
        return adjoint_symbol(array.flat[flat])

    def locate(symbol):
        if not symbol.name.startswith("g___"):
            return None
        index = array.index_of(NamedScalar(symbol.name[4:]))
        return None if index is None else _ravel(index, array.shape)

    return SymbolArray(array.shape, make, locate)


@functools.lru_cache(maxsize=None)  # symbols are immutable; substitution asks for them per position
def template_symbol(kind: str, indices: tuple[int, ...] = ()) -> NamedScalar:
    """A symbol of a layer template (one generic output position).

    >>> template_symbol("input", (0, 1, 2)).name, template_symbol("bias").name
    ('xi_0_1_2', 'beta')
    """
    return NamedScalar(TEMPLATE_LETTERS[kind][0] + "".join(f"_{int(i)}" for i in indices))


def template_array(kind: str, shape: tuple[int, ...]) -> SymbolArray:
    """The template symbols of ``shape`` (e.g. a kernel's generic patch), made lazily.

    >>> patch = template_array("input", (4,))
    >>> template_array("weight", (2, 3, 3))[1, 0, 2], patch.index_of(template_symbol("input", (3,)))
    (omega_1_0_2, (3,))
    """
    shape = tuple(int(n) for n in shape)

    def locate(symbol):
        name = parse_template_name(symbol.name)
        return None if name is None or name[0] != kind else _ravel(name[1], shape)

    return SymbolArray(shape, lambda flat: template_symbol(kind, _unravel(flat, shape)), locate)


def parse_template_name(name: str) -> tuple[str, tuple[int, ...]] | None:
    """(kind, indices) of a template symbol's name (``xi_0_1_2`` -> input at (0, 1, 2)), None for other names.

    >>> parse_template_name("omega_3"), parse_template_name("w__1_0")
    (('weight', (3,)), None)
    """
    match = _TEMPLATE_PATTERN.match(name)
    if not match:
        return None
    return _TEMPLATE_KINDS[match.group(1)], tuple(int(i) for i in match.group(2).split("_") if i)


def adjoint_symbol(symbol: sympy.Symbol) -> NamedScalar:
    """The symbol standing for dLoss/d``symbol`` (its value comes from backpropagation).

    >>> import sympy
    >>> sympy.latex(adjoint_symbol(NamedScalar("a__3_0_1_1")))
    '\\\\frac{\\\\partial L}{\\\\partial a^{(3)}_{0,1,1}}'
    """
    return NamedScalar(f"g___{symbol.name}")


def parse_name(name: str) -> ScalarName:
    """Parse a symbol name of either scheme back to (kind, layer, indices).

    >>> parse_name("a__1_0_2_3")
    ScalarName(kind='activation', layer=1, indices=(0, 2, 3))
    >>> parse_name("l4w17_1")
    ScalarName(kind='weight', layer=4, indices=(1, 17))
    >>> parse_name("interm_l1_54")
    ScalarName(kind='activation', layer=1, indices=(54,))
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    if name.startswith("g___"):
        inner = parse_name(name[4:])
        return ScalarName("adjoint", inner.layer, inner.indices)
    match = _SYMCNN_PATTERN.match(name)
    if match and match.group("letter") in _LETTER_KINDS:
        layer = match.group("layer")
        indices = tuple(int(i) for i in match.group("indices").split("_") if i)
        return ScalarName(_LETTER_KINDS[match.group("letter")], int(layer) if layer else None, indices)
    for kind, pattern in _R_PATTERNS:
        match = pattern.match(name)
        if match:
            groups = match.groupdict()
            layer = int(groups["layer"]) if groups.get("layer") else None
            indices = tuple(int(groups[key]) for key in ("f", "k") if groups.get(key))
            return ScalarName(kind, layer, indices)
    raise ValueError(f"{name!r} is not a symcnn symbol name of either naming scheme {SCHEMES}")
