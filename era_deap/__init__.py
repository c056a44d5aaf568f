"""era-deap: neural architecture search over residual networks with DEAP (ERA thesis, Lund 2020)."""
from .space import genome as _genome  # noqa: F401  makes the DEAP creator classes, so individuals unpickle anywhere

__version__ = "0.1.0"
