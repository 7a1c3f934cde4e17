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
import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import sympy

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


def symbol_array(scheme: str, kind: str, layer: int | None, shape: tuple[int, ...],
                 dense: bool = False) -> np.ndarray:
    """An object array of ``shape`` holding the symbol of every scalar of one kind.

    >>> symbol_array("symcnn", "weight", 1, (1, 1, 1, 2))
    array([[[[w__1_0_0_0_0, w__1_0_0_0_1]]]], dtype=object)
    """
    array = np.empty(shape, dtype=object)
    for index in np.ndindex(*shape):
        array[index] = make_symbol(scheme, kind, layer, index, shape, dense)
    return array


@functools.lru_cache(maxsize=None)  # symbols are immutable; substitution asks for them per position
def template_symbol(kind: str, indices: tuple[int, ...] = ()) -> NamedScalar:
    """A symbol of a layer template (one generic output position).

    >>> template_symbol("input", (0, 1, 2)).name, template_symbol("bias").name
    ('xi_0_1_2', 'beta')
    """
    return NamedScalar(TEMPLATE_LETTERS[kind][0] + "".join(f"_{int(i)}" for i in indices))


def template_array(kind: str, shape: tuple[int, ...]) -> np.ndarray:
    """Object array of template symbols of ``shape`` (e.g. a kernel's generic patch)."""
    array = np.empty(shape, dtype=object)
    for index in np.ndindex(*shape):
        array[index] = template_symbol(kind, index)
    return array


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
