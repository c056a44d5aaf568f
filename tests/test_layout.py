"""The package layout stays true: imports point down the pipeline, and no two files import each other
(directly or around a circle). The rule, lowest stage first (a stage may import only stages below it,
and files of its own stage):

    ground (config, settings, errors) < space < training, operators < search < baselines, bench
    < report < rankcorr < api < cli

Every import counts, also those inside functions. Strategies and objectives named in a config
("package.module:function", the strategy registry) are loaded by name at run time: plug-ins, not
imports. The checker reads the source with `ast` only, so it also checks a tree it is handed (the
last test adds an upward import to a copy and expects the checker to refuse it).
"""
from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Source folders of the installed package era_deap (operators/ and baselines/ install inside it).
FOLDERS = {"era_deap": "era_deap", "operators": "era_deap.operators", "baselines": "era_deap.baselines"}
LAYERS = {"ground": 0, "space": 1, "training": 2, "operators": 2, "search": 3, "baselines": 4, "bench": 4,
          "report": 5, "rankcorr": 6, "api": 7, "cli": 8}
GROUND = ("config", "settings", "errors")


def modules(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every .py file of the package."""
    found = {}
    for folder, package in FOLDERS.items():
        for path in sorted((root / folder).rglob("*.py")):
            parts = list(path.relative_to(root / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join([package, *parts])] = path
    return found


def stage(module: str) -> str | None:
    """The stage a module belongs to; None for the package root (era_deap/__init__.py)."""
    parts = module.split(".")
    if len(parts) == 1:
        return None
    return "ground" if parts[1] in GROUND else parts[1]


def imports(module: str, path: Path, known: dict) -> set[str]:
    """The package's own modules that `module` imports (absolute or relative, at any depth)."""
    is_package = path.name == "__init__.py"
    package = module if is_package else module.rsplit(".", 1)[0]
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            # `from X import y`: y may be a submodule of X, else a name defined in X.
            names = [f"{origin}.{a.name}" if f"{origin}.{a.name}" in known else origin for a in node.names]
        else:
            continue
        for name in names:
            while name and name not in known:   # era_deap.search.driver.run_search -> the module
                name = name.rpartition(".")[0]
            if name and name != module:
                targets.add(name)
    return targets


def problems(root: Path) -> list[str]:
    known = modules(root)
    graph = {m: imports(m, p, known) for m, p in known.items()}
    found = []
    for module, targets in sorted(graph.items()):
        here = stage(module)
        for target in sorted(targets):
            there = stage(target)
            if here is None or there is None or here == there:
                continue
            if LAYERS[there] >= LAYERS[here]:
                found.append(f"upward import: {module} ({here}) imports {target} ({there})")
    found += [f"import circle: {' -> '.join(c)}" for c in circles(graph)]
    return found


def circles(graph: dict[str, set]) -> list[list[str]]:
    """One circle per strongly connected group of files (Tarjan), as a readable path."""
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group) + [sorted(group)[0]])

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def test_imports_point_down_the_pipeline_without_circles():
    assert problems(ROOT) == []


def test_every_module_belongs_to_a_stage_and_the_top_level_stays_small():
    for module in modules(ROOT):
        assert stage(module) in (None, *LAYERS), module
    entries = sorted(p.name for p in (ROOT / "era_deap").iterdir() if p.name != "__pycache__")
    assert len(entries) <= 12, entries


@pytest.mark.parametrize("where, line, expected", [
    ("era_deap/space/space.py", "from ..search import driver\n", "upward import: era_deap.space.space (space) imports "
                                                                   "era_deap.search.driver (search)"),
    ("era_deap/training/evaluate.py", "def f():\n    from ..cli.main import main\n",
     "upward import: era_deap.training.evaluate (training) imports era_deap.cli.main (cli)"),
    ("era_deap/search/journal.py", "from .driver import Search\n", "import circle: "),
])
def test_the_checker_refuses_an_upward_import_or_a_circle(tmp_path, where, line, expected):
    for folder in FOLDERS:
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    with open(tmp_path / where, "a") as f:
        f.write(line)
    found = problems(tmp_path)
    assert any(p.startswith(expected) for p in found), found
