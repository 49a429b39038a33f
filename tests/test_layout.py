"""The package's floor plan, checked statically: no import cycle, few loose modules, short modules, no private
cross-imports, and a command-line parser that builds without torch."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from .helpers import REPO

PACKAGE = REPO / "textrisk"
MAX_TOP_MODULES = 12
MAX_LINES = 500


def _modules() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package (a package is its ``__init__``)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(REPO).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> list[tuple[str, list[str], int]]:
    """``(imported module, names, line)`` for every import in the file, relative ones resolved (function-level and
    ``TYPE_CHECKING`` imports included: they are dependencies too); ``from pkg import mod`` counts as ``pkg.mod``."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, [], node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = [alias.name for alias in node.names]
            submodules = [n for n in names if f"{target}.{n}" in modules]
            found += [(f"{target}.{n}", [], node.lineno) for n in submodules]
            rest = [n for n in names if n not in submodules]
            if rest or not submodules:
                found.append((target, rest, node.lineno))
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for target, _, _ in _imports(name, path, modules):
            while target and target not in modules:  # an attribute of a module: the module
                target = target.rpartition(".")[0]
            if target and target != name:
                graph[name].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_inside_the_package():
    cycles = _cycles(_graph())
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_subpackages_import_each_other_one_way():
    rooms: dict[str, set[str]] = {}
    for module, targets in _graph().items():
        room = module.split(".")[1] if "." in module else module
        rooms.setdefault(room, set()).update(t.split(".")[1] if "." in t else t for t in targets)
    for room, targets in rooms.items():
        targets.discard(room)
        for target in targets:
            rooms.setdefault(target, set())
    cycles = _cycles(rooms)
    assert not cycles, "subpackages importing each other: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_few_modules_directly_under_the_package():
    loose = sorted(p.name for p in PACKAGE.glob("*.py") if p.name != "__init__.py")
    assert len(loose) <= MAX_TOP_MODULES, f"{len(loose)} modules directly under textrisk/: {loose}"


def test_no_module_is_over_500_lines():
    long = {str(p.relative_to(REPO)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def test_no_module_imports_another_modules_private_name():
    modules = _modules()
    private = []
    for name, path in modules.items():
        for target, names, line in _imports(name, path, modules):
            if target.split(".")[0] != "textrisk" or target == name:
                continue
            private += [f"{path.relative_to(REPO)}:{line} imports {target}.{n}" for n in names
                        if n.startswith("_") and not n.startswith("__")]
            if any(part.startswith("_") and not part.startswith("__") for part in target.split(".")):
                private.append(f"{path.relative_to(REPO)}:{line} imports the private module {target}")
    assert not private, "private cross-imports: " + "; ".join(private)


def test_no_benchmark_or_checkout_code_is_imported_by_the_package():
    modules = _modules()
    outside = [f"{path.relative_to(REPO)}:{line} imports {target}" for name, path in modules.items()
               for target, _, line in _imports(name, path, modules)
               if target.split(".")[0] in ("benchmarks", "finetune", "tests")]
    assert not outside, "; ".join(outside)


def test_building_the_cli_parser_imports_no_torch():
    code = ("import sys\nfrom textrisk.cli import build_parser\nbuild_parser()\n"
            "heavy = sorted(m for m in ('torch', 'numpy', 'pandas', 'transformers') if m in sys.modules)\n"
            "print(','.join(heavy))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"building the parser imported {done.stdout.strip()}"
