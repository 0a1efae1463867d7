"""The code base stays ruff-clean (the house style), checked with the same tests as the rest."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_ruff_clean():
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    r = subprocess.run([ruff, "check", "jaxgan", "tests", "benchmarks", "notebooks"],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:]


def test_modules_stay_small():
    """About 400 lines at most per module; a module that grows past 460 should be split."""
    sizes = {p.relative_to(ROOT).as_posix(): len(p.read_text().splitlines())
             for p in (ROOT / "jaxgan").rglob("*.py")}
    too_big = {k: v for k, v in sizes.items() if v > 460}
    assert not too_big, too_big


def import_graph() -> dict[str, set[str]]:
    """jaxgan's module graph: an edge for every `import`/`from ... import` of a jaxgan
    module anywhere in a module's source, function-level (lazy) imports included, since a
    lazy import is a dependency all the same (it only moves the failure to the call).

    Two things are not edges: an import under ``if TYPE_CHECKING:`` (never executed), and
    the package ``__init__`` that Python runs before a submodule it imports, since that is
    the loading order, not a need of the importer (an ``__init__``'s own imports are edges
    of that package). `from pkg import name` is an edge to ``pkg.name`` when that is a
    module, else to ``pkg``.
    """
    import ast

    modules: dict[str, tuple[Path, bool]] = {}
    for p in (ROOT / "jaxgan").rglob("*.py"):
        parts = list(p.relative_to(ROOT).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        modules[".".join(parts[:-1] if is_pkg else parts)] = (p, is_pkg)

    def owner(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    def type_checking_only(tree: ast.AST) -> set[int]:
        skip: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                skip.update(id(n) for stmt in node.body for n in ast.walk(stmt))
        return skip

    graph: dict[str, set[str]] = {m: set() for m in modules}
    for mod, (path, is_pkg) in modules.items():
        package = mod if is_pkg else mod.rpartition(".")[0]
        tree = ast.parse(path.read_text())
        skip = type_checking_only(tree)
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            targets: list[str | None] = []
            if isinstance(node, ast.Import):
                targets = [owner(a.name) for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(up + ([node.module] if node.module else []))
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules
                           else owner(base) for a in node.names]
            graph[mod].update(t for t in targets if t and t.startswith("jaxgan") and t != mod)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_import_graph_sees_real_edges():
    """The graph is not empty or blind: lazy and top-level imports both show up."""
    g = import_graph()
    assert "jaxgan.step" in g["jaxgan.run"]  # top level
    assert "jaxgan.checkpoint" in g["jaxgan.run"]  # inside a function (restore_latest)
    assert "jaxgan.diagnostics.signals" in g["jaxgan.step"]
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycles():
    """No module needs, however lazily, a module that needs it back."""
    assert _cycles(import_graph()) == []


def test_diagnostics_do_not_depend_on_the_loop():
    """The detectors' package is read by the loop; it must not reach the loop itself."""
    g = import_graph()
    loop = {"jaxgan.trainer", "jaxgan.run", "jaxgan.sweep", "jaxgan.bench", "jaxgan.evaluate"}
    for mod in (m for m in g if m.startswith("jaxgan.diagnostics")):
        seen, todo = set(), [mod]
        while todo:
            for w in g[todo.pop()] - seen:
                seen.add(w)
                todo.append(w)
        assert not seen & loop, (mod, sorted(seen & loop))
