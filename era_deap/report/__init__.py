"""Figures and tables from run directories: `era report` reads evaluations.csv, summary.json and
final.json and writes the thesis's figures 4 and 5, tables 1, 2, 10, 11 and rank-sum tests, and for
runs on a benchmark table their regret and top-1% statistics (docs/report.md).

By role: runs.py reads run directories into records; statistics.py and pareto.py turn them into numbers;
figures.py draws, tables.py lays out; page.py writes report.md; report.py decides what is written (`era
report`); compare.py is `era compare`.
"""
import sys
import types

from ..search.rundir import RECENT_WINDOW
from .report import report as _report
from .report import write_report
from .runs import load

__all__ = ["load", "write_report"]


class _CallablePackage(types.ModuleType):
    """`era_deap.report(paths, out)` is the public API's report (report.py's `report`). A function of that
    name in era_deap/__init__.py would be replaced by this subpackage as soon as anything imports it, so
    the package itself is the function."""

    def __call__(self, paths, out=None, window: int = RECENT_WINDOW) -> list:
        return _report(paths, out, window)


sys.modules[__name__].__class__ = _CallablePackage
