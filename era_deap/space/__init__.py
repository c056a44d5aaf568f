"""The search space (thesis §3.4): genes, genomes as DEAP individuals, and the architecture arithmetic
(depth, parameters, multiply-adds) that needs no tensors. The ground every other stage stands on."""
from .genome import GENES, from_arch, individual, to_arch
from .space import SearchSpace, load_space

__all__ = ["GENES", "SearchSpace", "from_arch", "individual", "load_space", "to_arch"]
