"""`agents/` has no import cycle, counting imports inside functions: each module can be read on its own."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

AGENTS = Path(__file__).resolve().parents[1] / "agents"
PACKAGE = "underact.agents"


def module_name(path: Path) -> str:
    parts = path.relative_to(AGENTS).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join((PACKAGE, *parts))


def agents_imports(path: Path, modules: set[str]) -> set[str]:
    """The `underact.agents` modules that `path` imports anywhere in it (top level, functions, TYPE_CHECKING)."""
    own = module_name(path)
    package = own if path.name == "__init__.py" else own.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the package, up level - 1
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            # `from underact.agents import kernels` imports the module kernels; `from x import name`, module x
            found.update(f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names)
    return {name for name in found if name in modules and name != own}


def import_graph() -> dict[str, set[str]]:
    paths = sorted(AGENTS.rglob("*.py"))
    modules = {module_name(p) for p in paths}
    return {module_name(p): agents_imports(p, modules) for p in paths}


def test_the_graph_sees_imports_inside_functions():
    graph = import_graph()
    assert {"underact.agents.perception.encoded", "underact.agents.perception.pipeline"} <= graph[
        "underact.agents.build"
    ]  # both imported inside make_env_spec
    assert "underact.agents.kernels" in graph["underact.agents.backends"]  # `from underact.agents import kernels`


def test_agents_imports_have_no_cycle():
    try:
        order = list(TopologicalSorter(import_graph()).static_order())
    except CycleError as exc:
        raise AssertionError(f"import cycle in agents/: {' -> '.join(reversed(exc.args[1]))}") from None
    assert order.index("underact.agents.build") < order.index("underact.agents.backends")
