"""Figures and tables from run directories: `era report` reads evaluations.csv, summary.json and
final.json and writes the thesis's figures 4 and 5, tables 1, 2, 10, 11 and rank-sum tests, and for
runs on a benchmark table their regret and top-1% statistics (docs/report.md)."""
from .report import write_report
from .runs_read import load

__all__ = ["load", "write_report"]
