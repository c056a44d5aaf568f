"""Operators as a new user writes them, right and wrong, for tests/test_operators.py (copied beside
each test's config, where `era search` imports them from)."""
import os
import random


def mut_returns_individual(individual, space):
    """Forgets the tuple: DEAP mutations return (individual,)."""
    i = random.randrange(1, len(individual))
    individual[i] = random.choice(space.genes[i].values)
    return individual


def mut_returns_list(individual, space):
    """Returns a plain list: no fitness, not a DEAP individual."""
    return (list(individual),)


def mut_fails_later(individual, space):
    """A reset of one gene that raises from its ERA_FAIL_AFTER-th call on (counted per process)."""
    mut_fails_later.calls = getattr(mut_fails_later, "calls", 0) + 1
    if mut_fails_later.calls >= int(os.environ.get("ERA_FAIL_AFTER", "1000000")):
        raise ValueError("this operator breaks after a while")
    i = random.randrange(1, len(individual))
    individual[i] = random.choice([v for v in space.genes[i].values if v != individual[i]] or [individual[i]])
    return (individual,)
