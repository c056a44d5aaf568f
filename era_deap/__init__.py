"""era-deap: neural architecture search over residual networks with DEAP (ERA thesis, Lund 2020).

The public API (docs/python_api.md) is imported on first use, so `import era_deap` stays light (no torch,
no matplotlib):

    import era_deap
    run = era_deap.run_search("configs/bench/regularized_evolution.yaml", out="runs/re")
    problem = era_deap.Problem("configs/bench/base.yaml", out="runs/mine", budget=200, seed=0)
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from .space import genome as _genome  # noqa: F401  makes the DEAP creator classes, so individuals unpickle anywhere

__version__ = "0.1.0"

# name -> the module that defines it
_PUBLIC = {
    "load_space": "era_deap.api.configs",
    "load_config": "era_deap.api.configs",
    "run_search": "era_deap.api.runs",
    "load_run": "era_deap.api.runs",
    "load_runs": "era_deap.api.runs",
    "Run": "era_deap.api.runs",
    "Evaluation": "era_deap.search.rundir",
    "Problem": "era_deap.api.problem",
    "BudgetExhausted": "era_deap.search.script",
    "compare": "era_deap.api.compare",
    "Verdict": "era_deap.api.compare",
    "Comparison": "era_deap.api.compare",
    "load_table": "era_deap.api.tables",
    "ConfigError": "era_deap.errors",
    "RunDirError": "era_deap.errors",
    "ReplayMismatch": "era_deap.errors",
    "SearchAborted": "era_deap.errors",
}

__all__ = ["__version__", "report", *_PUBLIC]


def __getattr__(name: str):
    if name == "report":    # the report package is callable: era_deap.report(paths, out)
        return importlib.import_module("era_deap.report")
    if name not in _PUBLIC:
        raise AttributeError(f"module 'era_deap' has no attribute {name!r}")
    value = getattr(importlib.import_module(_PUBLIC[name]), name)
    globals()[name] = value     # the next access is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:   # for type checkers and IDEs; never run
    from . import report  # noqa: F401
    from .api.compare import Comparison, Verdict, compare  # noqa: F401
    from .api.configs import load_config, load_space  # noqa: F401
    from .api.problem import Problem  # noqa: F401
    from .api.runs import Run, load_run, load_runs, run_search  # noqa: F401
    from .api.tables import load_table  # noqa: F401
    from .errors import ConfigError, ReplayMismatch, RunDirError, SearchAborted  # noqa: F401
    from .search.rundir import Evaluation  # noqa: F401
    from .search.script import BudgetExhausted  # noqa: F401
