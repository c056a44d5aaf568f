"""Figures and tables from run directories: `era report` reads evaluations.csv, summary.json and
final.json and writes the thesis's figures 4 and 5, tables 1, 2, 10, 11 and rank-sum tests, and for
runs on a benchmark table their regret and top-1% statistics (docs/report.md).

By role: runs.py reads run directories into records; statistics.py and pareto.py turn them into numbers;
figures.py draws, tables.py lays out; page.py writes report.md; report.py decides what is written (`era
report`); compare.py is `era compare`.
"""
from .report import write_report
from .runs import load

__all__ = ["load", "write_report"]
