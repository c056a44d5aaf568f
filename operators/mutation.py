"""Mutation for ERA genomes (thesis §3.5): reset genes to a uniformly drawn *different* value."""
from __future__ import annotations

import random


def mut_uniform_reset(individual, space, n_genes: int = 1):
    """Reset `n_genes` distinct genes, each to a value drawn uniformly from the gene's other values.

    Genes with a single allowed value cannot change and are never picked. Modifies `individual` in
    place and returns `(individual,)`, as DEAP's mutations do; the caller invalidates the fitness.
    """
    mutable = [i for i, gene in enumerate(space.genes) if len(gene.values) > 1]
    for i in random.sample(mutable, min(n_genes, len(mutable))):
        gene = space.genes[i]
        individual[i] = random.choice([v for v in gene.values if v != individual[i]])
    return (individual,)
