"""DEAP operators for ERA genomes, importable as `era_deap.operators`.

Plain functions, registered on a `deap.base.Toolbox` from the search config; they use the global
`random` module as DEAP's own operators do (the strategy seeds it around every call). Crossover is
DEAP's `tools.cxUniform`: genes are positional with independent domains, so any uniform mix of two
valid genomes is valid.
"""
from .mutation import mut_uniform_reset
from .selection import sel_oldest, sel_tournament_loser

__all__ = ["mut_uniform_reset", "sel_oldest", "sel_tournament_loser"]
