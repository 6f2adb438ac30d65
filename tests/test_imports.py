"""No import circle inside :mod:`smsgw`: the module graph, from the source with :mod:`ast`.

Every ``import`` counts, function-level (lazy) ones too: a lazy import is
still a dependency at run time, and both circles this test was written
against (the SP role and ``tap``; the ISMG simulator and its faces) were
lazy ones.  Imports under ``if TYPE_CHECKING:`` do not count: they never
run, and annotations may name any type.  ``from package import module``
is an edge to the module only (every submodule's import runs its
package's ``__init__`` anyway, so that edge would say nothing).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

from twisted.trial.unittest import SynchronousTestCase

import smsgw

ROOT = Path(smsgw.__file__).parent


def module_name(path: Path, root: Path = ROOT) -> str:
    """``smsgw/sp/channel.py`` → ``smsgw.sp.channel``; a package is its ``__init__``."""
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _nodes(node: ast.AST) -> Iterable[ast.AST]:
    """Every node under *node*, but those of an ``if TYPE_CHECKING:`` block (not its else)."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _type_checking(child.test):
            for other in child.orelse:
                yield other
                yield from _nodes(other)
            continue
        yield child
        yield from _nodes(child)


def imported(tree: ast.Module, name: str, is_package: bool, modules: Iterable[str]) -> set[str]:
    """Every module *tree* (the module *name*) imports, wherever the import is."""
    known = set(modules)
    found: set[str] = set()
    for node in _nodes(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            for alias in node.names:
                sub = f"{module}.{alias.name}"
                found.add(sub if sub in known else module)
    return found


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Module → the modules of *root*'s package it imports (itself excluded)."""
    files = {module_name(p, root): p for p in sorted(root.rglob("*.py"))}
    graph = {}
    for name, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        deps = imported(tree, name, path.name == "__init__.py", files)
        graph[name] = {d for d in deps if d in files and d != name}
    return graph


def circles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def _graph_of(sources: Mapping[str, str]) -> dict[str, set[str]]:
    files = set(sources)
    return {
        name: {d for d in imported(ast.parse(src), name, False, files) if d in files and d != name}
        for name, src in sources.items()
    }


class ImportCircleTests(SynchronousTestCase):
    """No module of smsgw imports, directly or not, a module that imports it."""

    def test_no_circle(self) -> None:
        """smsgw's import graph has no strongly connected component of two modules or more."""
        found = circles(import_graph())
        self.assertEqual(found, [])

    def test_graph_sees_smsgw(self) -> None:
        """The graph has every module, and knows an import the SP channel makes."""
        graph = import_graph()
        self.assertIn("smsgw.sp.channel", graph)
        self.assertIn("smsgw.sp.interfaces", graph["smsgw.sp.channel"])
        self.assertGreater(len(graph), 50)

    def test_lazy_import_counts(self) -> None:
        """A circle closed by an import inside a function is found."""
        graph = _graph_of({"a": "import b\n", "b": "def f():\n    from a import x\n"})
        self.assertEqual(circles(graph), [["a", "b"]])

    def test_type_checking_import_does_not_count(self) -> None:
        """An import under ``if TYPE_CHECKING:`` is no edge; one in its else branch is."""
        src = "if TYPE_CHECKING:\n    import a\nelse:\n    import c\n"
        graph = _graph_of({"a": "import b\n", "b": src, "c": ""})
        self.assertEqual(graph["b"], {"c"})
        self.assertEqual(circles(graph), [])

    def test_longer_circle(self) -> None:
        """A circle through three modules is one component; a module outside it is not in it."""
        graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set()}
        self.assertEqual(circles(graph), [["a", "b", "c"]])

    def test_submodule_from_package(self) -> None:
        """``from pkg import mod`` is an edge to ``pkg.mod``; ``from pkg import f`` to ``pkg``."""
        graph = _graph_of({"pkg": "", "pkg.mod": "", "x": "from pkg import mod, name\n"})
        self.assertEqual(graph["x"], {"pkg", "pkg.mod"})
