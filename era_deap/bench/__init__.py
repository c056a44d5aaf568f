"""The tabular benchmark: every network of a space trained with several seeds by our own evaluator
(`era bench build`), shipped as a table, and looked up by `objective: table` so that searches run in
seconds over many seeds and the true optimum is known."""
from .table import Table, shipped

__all__ = ["Table", "shipped"]
