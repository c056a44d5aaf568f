"""The search: strategies ask for genomes, the driver evaluates them on local or Dask workers, keeps the
budget, the cache and the durable journal, and writes the run directory (CSV, DEAP logbook, summary)."""
from .run import run_search
from .strategy import Strategy, make_strategy

__all__ = ["Strategy", "make_strategy", "run_search"]
