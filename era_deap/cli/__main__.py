"""`python -m era_deap.cli`: the `era` command without the console script."""
from .main import entry

entry()
