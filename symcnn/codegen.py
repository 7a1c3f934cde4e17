"""Any expression (a derivative, a whole gradient) as standalone source code: Python/NumPy or C.

sympy's own printers write the arithmetic (after common-subexpression elimination); the
opaque functions of :mod:`symcnn.functions` get definitions in the emitted code, with the
engine's choices: a sigmoid that never overflows, ReLU'(0) = 0 (``Step``), ties of a window
maximum going to its first entry (``FirstMax``). A user-defined activation or loss (a
:class:`~symcnn.functions.DefinedFunction`) becomes a helper of its own name, ``symcnn_def_<name>``,
defined from its expression. The emitted code needs nothing from symcnn.

>>> import sympy
>>> from symcnn.functions import Sigmoid
>>> z = sympy.Symbol("z")
>>> source = export(Sigmoid(z) * (1 - Sigmoid(z)), "python")
>>> namespace = {}
>>> exec(source, namespace)
>>> float(namespace["derivative"]({"z": 0.0}))
0.25
"""

from __future__ import annotations

import inspect
import keyword
import re

import sympy
from sympy.printing.c import C99CodePrinter, get_math_macros
from sympy.printing.numpy import NumPyPrinter

from .checks import as_expression
from .functions import ELEMENTARY_FUNCTIONS, DefinedFunction, FirstMax, LogSumExp, WindowMax

LANGUAGES = ("python", "c")

#: Terms per emitted sum: Python's compiler recurses on long flat sums (~5,000 terms fail).
CHUNK = 200

#: Opaque functions of one argument and the helper each becomes in the emitted code.
_UNARY = {cls.__name__: cls.helper for cls in ELEMENTARY_FUNCTIONS if cls.unary}
#: Each helper's Python source: the very function the evaluator runs (see symcnn.functions).
_PYTHON_HELPERS = {cls.helper: inspect.getsource(cls.numpy_implementation).strip() for cls in ELEMENTARY_FUNCTIONS}
_C_HELPERS = {cls.helper: cls.c_source() for cls in ELEMENTARY_FUNCTIONS if cls.unary}
_C_VARIADIC = {cls.helper: cls for cls in ELEMENTARY_FUNCTIONS if not cls.unary}


def _named_definitions(expressions):
    """(expressions calling a helper for each defined function, [(helper, statement, variables, definition)])."""
    classes = sorted({type(f) for e in expressions for f in e.atoms(DefinedFunction)}, key=lambda c: c.__name__)
    helpers, taken = {}, set()
    for cls in classes:  # two functions of one name (say two leaky ReLU slopes) get numbered helpers
        helper, number = f"symcnn_def_{cls.__name__}", 2
        while helper in taken:
            helper, number = f"symcnn_def_{cls.__name__}_{number}", number + 1
        taken.add(helper)
        helpers[cls] = helper
    calls = {cls: sympy.Function(helper) for cls, helper in helpers.items()}
    rewritten = [e.replace(lambda f: isinstance(f, DefinedFunction), lambda f: calls[type(f)](*f.args))
                 if helpers else e for e in expressions]
    return rewritten, [(helpers[cls], f"{cls.__name__}({', '.join(v.name for v in cls.variables)}) = {cls.definition}",
                        cls.variables, cls.definition) for cls in classes]


class _CPrinter(C99CodePrinter):
    """C99 printer that names variadic helpers by arity and remembers which it used."""

    def __init__(self, defined=()):
        super().__init__({"user_functions": {**_UNARY, **{helper: helper for helper, *_ in defined}}})
        self.variadic = set()

    def _variadic(self, kind, arguments):
        self.variadic.add((kind, len(arguments)))
        return f"{kind}_{len(arguments)}({', '.join(self._print(a) for a in arguments)})"

    def _print_WindowMax(self, expression):
        return self._variadic(WindowMax.helper, expression.args)

    def _print_LogSumExp(self, expression):
        return self._variadic(LogSumExp.helper, expression.args)

    def _print_FirstMax(self, expression):
        self.variadic.add((FirstMax.helper, len(expression.args) - 1))
        entries = ", ".join(self._print(a) for a in expression.args[1:])
        return f"{FirstMax.helper}_{len(expression.args) - 1}({int(expression.args[0])}, {entries})"


def argument_symbols(expression) -> list:
    """The symbols an exported function reads, in their order: sorted by name.

    >>> x, w = sympy.symbols("x_0 w__1_0")
    >>> argument_symbols(w * x + w)
    [w__1_0, x_0]
    """
    expressions = expression if isinstance(expression, (list, tuple)) else [expression]
    return sorted(set().union(*(as_expression(e).free_symbols for e in expressions)), key=lambda s: s.name)


def _straight_line(expressions):
    """(assignments, results): common subexpressions named ``cse_k``, long sums split in chunks."""
    names = sympy.numbered_symbols("cse_")
    assignments, results = sympy.cse(expressions, symbols=names, order="none")
    split = []

    def shorten(expression):
        if expression.is_Atom or not expression.args:
            return expression
        arguments = [shorten(a) for a in expression.args]
        if isinstance(expression, (sympy.Add, sympy.Mul)) and len(arguments) > CHUNK:
            parts = []
            for start in range(0, len(arguments), CHUNK):
                part = next(names)
                split.append((part, expression.func(*arguments[start:start + CHUNK])))
                parts.append(part)
            return shorten(expression.func(*parts))
        return expression.func(*arguments) if arguments != list(expression.args) else expression

    lines = []
    for symbol, value in assignments + [(None, r) for r in results]:
        value = shorten(value)
        lines += split
        split.clear()
        lines.append((symbol, value))
    return [line for line in lines if line[0] is not None], [value for symbol, value in lines if symbol is None]


def _check_identifiers(arguments):
    for symbol in arguments:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", symbol.name) or keyword.iskeyword(symbol.name) \
                or symbol.name.startswith(("cse_", "symcnn_")) or symbol.name in ("numpy", "values", "out"):
            raise ValueError(f"cannot export symbol {symbol.name!r}: not usable as a variable name")


def export(expression, language: str = "python", name: str = "derivative", arguments=None) -> str:
    """Standalone source code computing ``expression`` (or a list of them) from its symbols.

    Python: ``name(values)`` takes a sequence in the order of ``ARGUMENTS`` (defined in the
    source) or a mapping {symbol name: value}; it returns the value (a list for a list of
    expressions) and needs only NumPy. C: ``double name(const double *values)`` for one
    expression, ``void name(const double *values, double *out)`` for a list; arguments in
    the order of the array ``<name>_arguments`` in the source. ``arguments`` fixes the order
    (default: :func:`argument_symbols`).

    >>> x, w = sympy.symbols("x_0 w__1_0")
    >>> "double derivative(const double *values) {" in export(w * x, "c")
    True

    Parameters: ``expression``; ``language`` ``"python"`` or ``"c"``; ``name`` of the function;
    ``arguments`` an explicit order of the symbols.
    """
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, got {language!r}")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) or name.startswith(("symcnn_", "cse_")):
        raise ValueError(f"function name {name!r} is not an identifier free for it")
    several = isinstance(expression, (list, tuple))
    expressions = [as_expression(e) for e in (expression if several else [expression])]
    arguments = argument_symbols(expressions) if arguments is None else list(arguments)
    missing = set().union(*(e.free_symbols for e in expressions)) - set(arguments)
    if missing:
        raise ValueError(f"arguments lack {sorted(s.name for s in missing)}")
    _check_identifiers(arguments)
    if name in {s.name for s in arguments}:
        raise ValueError(f"function name {name!r} is also the name of an argument")
    expressions, defined = _named_definitions(expressions)
    assignments, results = _straight_line(expressions)
    if language == "python":
        return _python_source(name, arguments, assignments, results, several, defined)
    return _c_source(name, arguments, assignments, results, several, defined)


def _python_source(name, arguments, assignments, results, several, defined) -> str:
    variadic = {cls.__name__: cls.helper for cls in _C_VARIADIC.values()}
    printer = NumPyPrinter({"user_functions": {**_UNARY, **variadic, **{helper: helper for helper, *_ in defined}}})
    definitions = [f"def {helper}({', '.join(v.name for v in variables)}):\n    # {stated}\n"
                   f"    return {printer.doprint(definition)}" for helper, stated, variables, definition in defined]
    body = [f"    {s.name} = values[{k}]" for k, s in enumerate(arguments)]
    body += [f"    {s.name} = {printer.doprint(value)}" for s, value in assignments]
    printed = [printer.doprint(r) for r in results]
    body.append(f"    return [{', '.join(printed)}]" if several else f"    return {printed[0]}")
    source = "\n".join(body)
    used = "\n".join([source, *definitions])
    helpers = [text for helper, text in _PYTHON_HELPERS.items() if re.search(rf"\b{helper}\(", used)]
    listed = "".join(f"\n    {s.name!r}," for s in arguments)
    return "\n".join([
        f'"""{name}: generated by symcnn.codegen from a sympy expression; needs only NumPy."""',
        "import numpy", "", f"ARGUMENTS = ({listed}\n)", "", *[h + "\n\n" for h in helpers + definitions],
        f"def {name}(values):",
        '    """The expression at ``values``: a sequence in ARGUMENTS order or a mapping name -> value."""',
        "    if hasattr(values, \"keys\"):",
        "        values = [values[argument] for argument in ARGUMENTS]",
        source, ""])


def _math_macros(source) -> list:
    """Definitions of the math.h constants (M_PI, M_SQRT2, ...) ``source`` uses: strict C99 lacks them."""
    lines = []
    for value, macro in sorted(get_math_macros().items(), key=lambda item: item[1]):
        if re.search(rf"\b{macro}\b", source):
            lines += [f"#ifndef {macro}", f"#define {macro} {sympy.N(value, 21)}", "#endif"]
    return lines


def _c_source(name, arguments, assignments, results, several, defined) -> str:
    printer = _CPrinter(defined)
    definitions = [f"static double {helper}({', '.join(f'double {v.name}' for v in variables)}) {{\n"
                   f"    /* {stated} */\n    return {printer.doprint(definition)};\n}}"
                   for helper, stated, variables, definition in defined]
    body = [f"    const double {s.name} = values[{k}];" for k, s in enumerate(arguments)]
    body += [f"    const double {s.name} = {printer.doprint(value)};" for s, value in assignments]
    printed = [printer.doprint(r) for r in results]
    if several:
        body += [f"    out[{k}] = {text};" for k, text in enumerate(printed)]
        signature = f"void {name}(const double *values, double *out)"
    else:
        body.append(f"    return {printed[0]};")
        signature = f"double {name}(const double *values)"
    source = "\n".join(body)
    used = "\n".join([source, *definitions])
    helpers = [text for helper, text in _C_HELPERS.items() if re.search(rf"\b{helper}\(", used)]
    helpers += [_C_VARIADIC[kind].c_source(arity) for kind, arity in sorted(printer.variadic)] + definitions
    listed = "".join(f"\n    \"{s.name}\"," for s in arguments)
    return "\n".join([
        f"/* {name}: generated by symcnn.codegen from a sympy expression. Compile: cc -O2 -c file.c */",
        "#include <math.h>", *_math_macros("\n".join([source, *helpers])), "",
        f"/* values[k] holds the value of {name}_arguments[k] */",
        f"const char *const {name}_arguments[{max(len(arguments), 1)}] = {{{listed or ' 0'}\n}};", "",
        *[h + "\n" for h in helpers], signature + " {", source, "}", ""])

