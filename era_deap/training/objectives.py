"""Cheap objectives for tests, benchmarks and trying strategies: `objective: "era_deap.training.objectives:NAME"`.

Each is a callable `(arch: dict, seed: int) -> float` returning a validation error in percent, like
the training objective. `landscape` has a known optimum (`OPTIMUM`, error `OPTIMUM_ERROR`) in the
default space (configs/space.yaml) and enough structure (a narrow basin, interactions, a rugged term)
that guided searches beat random search on it while random search still finds reasonable genomes.

`OPTIMUM` (64 filters, sections up to 9 blocks) lies outside smaller spaces such as the quick profile's
(configs/quick/space.yaml: filters up to 8, at most 3 blocks per section), so a search there never
reaches 5.0. What it can reach is `best_in_space(space)`, by enumeration: in the quick space
`QUICK_SPACE_BEST_ERROR` (20.41, bottleneck-0.2.2.1-f8-u2-g8).
"""
from __future__ import annotations

import math
import random
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..space.space import SearchSpace

# Thesis table 10's regularized-evolution winner serves as the known optimum.
OPTIMUM = {"block": "bottleneck", "sections": [7, 9, 9, 1], "filters": 64, "filter_update": 2,
           "group_size": 32}
OPTIMUM_ERROR = 5.0
# landscape's best over configs/quick/space.yaml's 2,916 networks (best_in_space; a test checks it).
QUICK_SPACE_BEST_ERROR = 20.41


def _coordinates(arch: dict) -> list[float]:
    """Genes on [0, 1] scales of the default space (log scale for widths)."""
    s = arch["sections"]
    return [1.0 if arch["block"] == "bottleneck" else 0.0, s[0] / 18, (s[1] - 1) / 17, (s[2] - 1) / 17,
            (s[3] - 1) / 17, math.log2(arch["filters"]) / 6, float(arch["filter_update"] - 1),
            math.log2(min(arch["group_size"], arch["filters"])) / 5]


_TARGET = _coordinates(OPTIMUM)
_WEIGHTS = [4.0, 6.0, 8.0, 8.0, 6.0, 14.0, 5.0, 4.0]


def landscape(arch: dict, seed: int = 0) -> float:
    """Deterministic error in [OPTIMUM_ERROR, ~90]; minimum OPTIMUM_ERROR exactly at OPTIMUM."""
    x = _coordinates(arch)
    d = [xi - ti for xi, ti in zip(x, _TARGET)]
    bowl = sum(w * di * di for w, di in zip(_WEIGHTS, d))
    interaction = 6.0 * abs(d[5] * d[6]) + 4.0 * abs(d[2] - d[3])  # width x update, balanced sections
    rugged = 1.5 * sum(math.sin(7.0 * di) ** 2 for di in d)
    return OPTIMUM_ERROR + 1.8 * (bowl + interaction + rugged)


def best_in_space(space: SearchSpace, objective: Callable[[dict], float] = landscape) -> tuple[float, dict]:
    """(lowest error, its arch) of a deterministic `objective` over every unique network of `space`, by
    enumeration: for small spaces such as the quick one (2,916 networks, under a second), which do not
    hold the default space's `OPTIMUM`."""
    from ..space.genome import to_arch
    return min(((objective(arch), arch) for arch in map(to_arch, space.unique_genomes())), key=lambda pair: pair[0])


def noisy_landscape(arch: dict, seed: int = 0) -> float:
    """`landscape` plus seed-dependent noise of about 0.5 points, like retraining with another seed."""
    return landscape(arch) + random.Random(seed).gauss(0.0, 0.5)


def sleepy_landscape(arch: dict, seed: int = 0) -> float:
    """`landscape` after sleeping 0.2 s: for measuring parallel workers without training."""
    time.sleep(0.2)
    return landscape(arch)


def paced_landscape(arch: dict, seed: int = 0) -> float:
    """`landscape` after sleeping ERA_OBJECTIVE_SLEEP seconds (default 0.05): for kill/resume tests.
    With ERA_OBJECTIVE_LOG set, each call first appends a line to that file (counting trainings)."""
    import os
    log = os.environ.get("ERA_OBJECTIVE_LOG")
    if log:
        with open(log, "a") as f:
            f.write(f"{seed}\n")
    time.sleep(float(os.environ.get("ERA_OBJECTIVE_SLEEP", "0.05")))
    return landscape(arch)


def failing(arch: dict, seed: int = 0) -> float:
    """Always fails: for testing that a search stops when most evaluations fail."""
    raise RuntimeError("this objective always fails")


def crashing_landscape(arch: dict, seed: int = 0) -> float:
    """`landscape`, but the process dies (exit code 3, as a fatal CUDA error would end it) on about a
    fifth of the genomes: for testing that a dead worker costs one evaluation, not the search."""
    if (sum(arch["sections"]) + arch["filters"]) % 5 == 0:
        import os
        os._exit(3)
    return landscape(arch)


def segfaulting_landscape(arch: dict, seed: int = 0) -> float:
    """`crashing_landscape`, but the process is killed by SIGSEGV, as a crash in native code ends it."""
    if (sum(arch["sections"]) + arch["filters"]) % 5 == 0:
        import os
        import signal
        os.kill(os.getpid(), signal.SIGSEGV)
    return landscape(arch)


def flaky_landscape(arch: dict, seed: int = 0) -> float | str | None:
    """`landscape`, but about a third of genomes fail the way a user's objective can: an exception,
    NaN, infinity, None or a string. Deterministic per genome."""
    mode = (sum(arch["sections"]) + arch["filters"] + arch["group_size"]) % 15
    if mode == 0:
        raise RuntimeError("objective failed on purpose")
    if mode == 1:
        return float("nan")
    if mode == 2:
        return float("inf")
    if mode == 3:
        return None
    if mode == 4:
        return "12.5"
    return landscape(arch)


CURVE_EPOCHS = 12   # the schedule `curved_landscape` stands for


def curved_landscape(arch: dict, seed: int = 0, epochs: int | None = None) -> float | dict:
    """`noisy_landscape` as a learning curve of a CURVE_EPOCHS-epoch schedule: the error after `epochs`
    of it, falling from ~90% towards the final error, more slowly for deeper networks (as short training
    favours shallow ones). With `epochs` None, the final error and the whole curve (a mapping, as a
    training reports it: `era bench build` then records the curve). For multi-fidelity tests."""
    if epochs is None:
        curve = [{"epoch": e, "val_error": _curve_point(arch, seed, e)} for e in range(1, CURVE_EPOCHS + 1)]
        return {"error": curve[-1]["val_error"], "curve": curve}
    return _curve_point(arch, seed, min(epochs, CURVE_EPOCHS))



def paced_curved_landscape(arch: dict, seed: int = 0, epochs: int | None = None) -> float | dict:
    """`curved_landscape` after sleeping ERA_OBJECTIVE_SLEEP seconds (default 0.05): for kill/resume runs
    of multi-fidelity searches (benchmarks/kill_loop.py)."""
    import os
    time.sleep(float(os.environ.get("ERA_OBJECTIVE_SLEEP", "0.05")))
    return curved_landscape(arch, seed, epochs)

def _curve_point(arch: dict, seed: int, done: int) -> float:
    final = noisy_landscape(arch, seed)
    pace = 2.0 + 0.25 * sum(arch["sections"])
    return final + (90.0 - final) * math.exp(-done / pace) * (1.0 - done / CURVE_EPOCHS)


def narrow_failing_landscape(arch: dict, seed: int = 0) -> float:
    """`landscape`, but every network with 2 filters fails (an exception), as a too-narrow network can
    fail systematically: for testing the warning that failures cluster at one gene value."""
    if arch["filters"] == 2:
        raise RuntimeError("2 filters: this objective fails on purpose")
    return landscape(arch)


def torch_threads(arch: dict, seed: int = 0) -> float:
    """The number of torch threads the evaluation runs with, as its "error": for testing that `era search`
    and the Python API give evaluations the same threads."""
    import torch
    return float(torch.get_num_threads())
