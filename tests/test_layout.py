"""The package's shape: no import cycles, every module importable alone, the config side free of torch,
and the house's size limits (files ~300 lines, functions ~80)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

PACKAGE = REPO / "ganrun"
MAX_FILE_LINES, MAX_FUNCTION_LINES = 320, 90


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(path: Path, name: str) -> set[str]:
    """The ganrun modules a module imports, at any depth of its code (lazy imports count too)."""
    found = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from .x import y
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}  # `from ganrun.run import state`
    return {m for m in found if m in MODULES and m != name}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the stack, 2: done

    def visit(node: str, stack: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt, stack + [nxt])):
                return cycle
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start, [start])):
            return cycle
    return None


def test_find_cycle_finds_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_import_graph_has_no_cycle():
    # A package's __init__ importing its own submodules is not a cycle of the code: leave those edges out.
    graph = {name: {m for m in imports_of(path, name) if not (path.name == "__init__.py" and m.startswith(name + "."))}
             for name, path in MODULES.items()}
    graph = {name: {m for m in deps if not name.startswith(m + ".") or MODULES[m].name != "__init__.py"}
             for name, deps in graph.items()}  # a submodule importing its own package's __init__
    assert find_cycle(graph) is None, f"import cycle: {' -> '.join(find_cycle(graph))}"


def test_errors_import_nothing_of_ganrun():
    assert imports_of(MODULES["ganrun.errors"], "ganrun.errors") == set()


def test_every_module_imports_alone_and_the_cli_side_without_torch():
    script = f"""
import importlib, sys
names = {sorted(n for n in MODULES if n not in ("ganrun.conf", "ganrun.__main__"))!r}
for name in ["ganrun.cli", "ganrun.errors", "ganrun.config.compose", "ganrun.commands.train"]:
    importlib.import_module(name)
assert "torch" not in sys.modules, "the CLI side imports torch"
import torch  # once, then each module alone
for name in names:
    for loaded in [m for m in sys.modules if m == "ganrun" or m.startswith("ganrun.")]:
        del sys.modules[loaded]
    importlib.import_module(name)
print("ok", len(names))
"""
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.splitlines()[-1] == f"ok {len(MODULES) - 2}"  # all but conf and __main__


def test_files_and_functions_stay_small():
    too_long = [f"{n}: {len(p.read_text().splitlines())} lines" for n, p in MODULES.items()
                if len(p.read_text().splitlines()) > MAX_FILE_LINES]
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    too_long.append(f"{name}.{node.name}: {length} lines")
    assert not too_long, too_long


def test_the_readme_names_every_game_and_preset():
    """The config-groups table is where a user looks for what exists: a new YAML must appear there."""
    rows = {line.split("|")[1].strip(): line for line in (REPO / "README.md").read_text().splitlines()
            if line.startswith("| `")}
    for group in ("game", "experiment"):
        missing = [path.stem for path in sorted((PACKAGE / "conf" / group).glob("*.yaml"))
                   if f"`{path.stem}`" not in rows[f"`{group}`"]]
        assert not missing, f"README's config-groups row `{group}` lacks {missing}"
