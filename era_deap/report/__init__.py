"""Figures and tables from run directories: `era report` reads evaluations.csv, summary.json and
final.json and writes the thesis's figures 4 and 5 and tables 1, 2, 10, 11 with rank-sum tests."""
from .report import write_report
from .runs_read import load

__all__ = ["load", "write_report"]
