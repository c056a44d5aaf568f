"""A small stand-in for the search driver, for strategy tests (and the conformance suite).

    history = run_strategy(strategy, space, objective, budget=50)

It keeps the driver's semantics (docs/design.md §5, §6): a cache by canonical key (a repeated genome is told the
stored result, marked `cached`, and costs no budget); the budget counts unique evaluations; failures
are turned into statuses the way the evaluator does (exception -> error, NaN/inf -> diverged, None or a
non-number -> error) and get the finite worst fitness; the loop ends at the budget or when the
strategy raises SearchExhausted. With `workers > 1` up to that many evaluations are in flight and they
complete in a seeded random order, as results from parallel workers do.
"""
from __future__ import annotations

import dataclasses
import math
import random
import traceback
from numbers import Real

from era_deap.search.strategy import SearchExhausted
from era_deap.space.genome import to_arch
from era_deap.training.result import DIVERGED, ERROR, OK, EvalResult


def evaluate(objective, genome, seed: int) -> EvalResult:
    """Call `objective(arch, seed)` and turn what it returns or raises into an EvalResult."""
    try:
        value = objective(to_arch(genome), seed)
    except Exception as exc:  # noqa: BLE001 - any objective failure is a recorded `error`
        return EvalResult(ERROR, message="".join(traceback.format_exception(exc)))
    if isinstance(value, bool) or not isinstance(value, Real):
        return EvalResult(ERROR, message=f"objective returned {value!r}, expected a number")
    if not math.isfinite(value):
        return EvalResult(DIVERGED, message=f"objective returned {value!r}")
    return EvalResult(OK, error=float(value))


def run_strategy(strategy, space, objective, budget: int, seed_base: int = 0, workers: int = 1,
                 max_asks: int | None = None) -> list:
    """Ask/evaluate/tell until `budget` unique evaluations or SearchExhausted.

    Returns every tell in order as `(individual, EvalResult)`, cached hits included (`result.cached`).
    `max_asks` (default 20 x budget + 100) guards against a strategy that only re-asks cached genomes.
    """
    max_asks = 20 * budget + 100 if max_asks is None else max_asks
    cache: dict[str, EvalResult] = {}
    in_flight: list = []                 # (key, individual, result), in ask order
    followers: dict[str, list] = {}      # key in flight -> later asks of the same network
    history: list = []
    completion = random.Random(seed_base)
    evaluations = asks = 0
    exhausted = False

    def tell(individual, result):
        individual.fitness.values = (result.fitness,)
        strategy.tell(individual, result)
        history.append((individual, result))

    while True:
        while not exhausted and evaluations < budget and len(in_flight) < workers:
            if asks >= max_asks:
                raise AssertionError(f"{asks} asks for {evaluations} unique evaluations: the strategy "
                                     "keeps proposing networks it already has")
            try:
                individual = strategy.ask()
            except SearchExhausted:
                exhausted = True
                break
            asks += 1
            key = space.key(individual)
            if key in cache:
                tell(individual, dataclasses.replace(cache[key], cached=True))
            elif any(k == key for k, _, _ in in_flight):
                followers.setdefault(key, []).append(individual)
            else:
                in_flight.append((key, individual, evaluate(objective, individual, seed_base + evaluations)))
                evaluations += 1
        if not in_flight:
            return history
        key, individual, result = in_flight.pop(completion.randrange(len(in_flight)) if workers > 1 else 0)
        cache[key] = result
        tell(individual, result)
        for follower in followers.pop(key, []):
            tell(follower, dataclasses.replace(result, cached=True))


def best_error(history) -> float:
    """The lowest error among successful evaluations (inf when none succeeded)."""
    return min((r.error for _, r in history if r.ok), default=math.inf)
