"""The shape of the code, checked from the source: no import cycle, no cross-module use of private
names, no module over 600 lines (DEVELOPERS.md, "Modules")."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "symcnn"
MAX_LINES = 600

#: Private-looking names that belong to other libraries' protocols, not to a symcnn module:
#: sympy printers (``printer._print``, ``super()._print_Add``), sympy's evaluation hooks.
FOREIGN_PROTOCOL_PREFIXES = ("_print", "_eval_")


def _module_name(path: Path, package: Path) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _sources(package: Path = PACKAGE) -> dict:
    """{module name: (path, parsed tree)} of every module of the package."""
    return {_module_name(path, package): (path, ast.parse(path.read_text(), str(path)))
            for path in sorted(package.rglob("*.py"))}


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _imports(module: str, path: Path, tree, modules) -> list:
    """[(imported symcnn module, names imported from it)] of every import anywhere in the module,
    function-level imports included. ``from . import x`` imports the submodule x if there is one,
    else the name x from the package's ``__init__``."""
    package = module if _is_package(path) else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names if alias.name.split(".")[0] == "symcnn"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            if source.split(".")[0] != "symcnn":
                continue
            names = []
            for alias in node.names:
                if f"{source}.{alias.name}" in modules:
                    found.append((f"{source}.{alias.name}", []))
                else:
                    names.append(alias.name)
            if names:
                found.append((source, names))
    return found


def _import_graph(package: Path = PACKAGE) -> dict:
    """{module: modules it imports}; importing ``a.b.c`` from outside ``a.b`` also runs ``a.b``'s
    ``__init__`` (an edge to the package); a module's own enclosing packages are already loading."""
    sources = _sources(package)
    graph = {}
    for module, (path, tree) in sources.items():
        targets = set()
        for target, _ in _imports(module, path, tree, sources):
            while target not in sources and "." in target:  # "symcnn.x.y" where y is a name in x
                target = target.rpartition(".")[0]
            parts = target.split(".")
            for end in range(1, len(parts) + 1):
                enclosing = ".".join(parts[:end])
                if enclosing != module and not module.startswith(enclosing + "."):
                    targets.add(enclosing)
        graph[module] = targets
    return graph


def _cycles(graph) -> list:
    """Every strongly connected group of more than one module (Tarjan), each sorted."""
    index, low, stack, on_stack, groups, counter = {}, {}, [], set(), [], [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for successor in graph.get(node, ()):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _own_private_names(tree) -> set:
    """Private names a module defines itself: functions, classes, assigned names and attributes."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                for part in ast.walk(target):
                    if isinstance(part, ast.Name):
                        names.add(part.id)
                    elif isinstance(part, ast.Attribute):
                        names.add(part.attr)
    return {name for name in names if _is_private(name)}


def _private_uses(package: Path = PACKAGE) -> list:
    """(module, line, name) of every private name one symcnn module takes from another: imported
    (``from .x import _y``) or read as an attribute (of anything but ``self``, ``cls`` or
    ``super()``) that the module does not define itself (``other._key()`` in a class's own
    ``__eq__`` is the module's own business)."""
    sources = _sources(package)
    uses = []
    for module, (path, tree) in sources.items():
        for target, names in _imports(module, path, tree, sources):
            uses += [(module, 0, name) for name in names if _is_private(name)]
        own = _own_private_names(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Attribute) or not _is_private(node.attr) or node.attr in own:
                continue
            owner = node.value
            if isinstance(owner, ast.Name) and owner.id in ("self", "cls"):
                continue
            if isinstance(owner, ast.Call) and isinstance(owner.func, ast.Name) and owner.func.id == "super":
                continue
            if node.attr.startswith(FOREIGN_PROTOCOL_PREFIXES):
                continue
            uses.append((module, node.lineno, node.attr))
    return uses


def test_the_import_graph_sees_function_level_and_package_imports():
    graph = _import_graph()
    assert "symcnn.inspect" in graph["symcnn"]  # the package __init__ edge
    assert "symcnn.inspect.cache" in graph["symcnn.network"]
    assert "symcnn.data" in graph["symcnn.cli"]  # imported inside run_train
    assert "symcnn.torch_reference" in graph["symcnn.benchmark"]  # imported inside torch_step


def test_the_cycle_finder_finds_a_cycle_through_a_function_level_import():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def _fake_package(root: Path, files: dict) -> Path:
    package = root / "symcnn"
    for name, text in files.items():
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(text)
    return package


def test_the_checks_see_a_cycle_through_a_package_init_and_private_names(tmp_path):
    package = _fake_package(tmp_path, {
        "__init__.py": "from .shown import plot\n",
        "shown/__init__.py": "from .plots import plot\n",
        "shown/plots.py": "def plot(net):\n    from ..looks import _marks\n    return net._batch(_marks)\n",
        "looks.py": "import symcnn.shown.plots\n_marks = 1\n\n\nclass Key:\n    def _key(self):\n"
                    "        return 1\n\n    def __eq__(self, other):\n        return self._key() == other._key()\n",
    })
    assert _cycles(_import_graph(package)) == [["symcnn.looks", "symcnn.shown", "symcnn.shown.plots"]]
    assert sorted(name for _, _, name in _private_uses(package)) == ["_batch", "_marks"]


def test_no_import_cycle():
    assert _cycles(_import_graph()) == []


def test_no_module_uses_another_modules_private_names():
    assert _private_uses() == []


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_is_over_600_lines(path):
    assert len(path.read_text().splitlines()) <= MAX_LINES
