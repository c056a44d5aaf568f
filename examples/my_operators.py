"""An example of a user's own DEAP operator (README, "Tweak an operator").

A mutation that moves one ordinal gene a few positions up or down instead of resetting it uniformly.
Operators are plain functions as in DEAP; one with a `space` parameter receives the run's SearchSpace.
"""
import random


def mut_step(individual, space, steps=1):
    i = random.randrange(1, len(individual))  # any gene but the block type
    gene = space.genes[i]
    position = gene.position(individual[i]) + random.choice([-steps, steps])
    individual[i] = gene.values[min(max(position, 0), len(gene.values) - 1)]
    return (individual,)
