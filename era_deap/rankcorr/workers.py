"""The rank-correlation study's trainings, on the search's executors (era_deap/search/executors.py).

An executor's workers each hold one Evaluator (era_deap/training/evaluate.py), and the schedule is
part of the evaluator's config, not of a task: so each fidelity gets its own executor, whose
`training` is `config.schedule(epochs)`. Its worker processes (and their dataset) start anew per
fidelity, and a fidelity's last trainings finish before the next fidelity starts; the largest
networks go first, so that few workers wait for a long one at the end. The evaluator classifies
failures (oom, diverged, error) and never raises. Ctrl-C reaches the main process only: closing the
executor stops the workers, and what finished is already saved (era_deap/rankcorr/run.py).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..search.executor import Done
from ..search.executors import make_executor
from ..settings import EvaluatorConfig
from ..space.architecture import complexity
from ..training.result import EvalResult
from .study import setup, training_seed

if TYPE_CHECKING:
    from collections.abc import Iterator

    from ..space.families import Network
    from .study import RankcorrConfig


def train_all(config: RankcorrConfig, tasks: list) -> Iterator[tuple[Network, int, dict]]:
    """Yield (network, epochs, result dict) for every (network, epochs) task as it finishes, one
    fidelity after the other in the order of `tasks` (low fidelities first)."""
    for epochs in dict.fromkeys(e for _, e in tasks):
        networks = sorted((n for n, e in tasks if e == epochs), key=lambda n: -complexity(n.arch())["macs"])
        yield from _train_fidelity(config, epochs, networks)


def evaluator_config(config: RankcorrConfig, epochs: int, workers: int) -> EvaluatorConfig:
    """The evaluator of one fidelity: the study's dataset and device, the fidelity's schedule."""
    return EvaluatorConfig(objective="train", executor="local", workers=workers, device=config.device,
                           dataset=config.dataset, training=config.schedule(epochs))


def _train_fidelity(config, epochs: int, networks: list):
    workers = min(config.workers, len(networks))
    executor = make_executor(evaluator_config(config, epochs, workers), config.seed, workers)
    waiting, running = list(enumerate(networks)), 0
    try:
        while waiting or running:
            while waiting and running < executor.capacity:
                n, network = waiting.pop(0)
                executor.submit(n, network.arch(), training_seed(config.seed, network, epochs))
                running += 1
            event = executor.next_event()
            if not isinstance(event, Done):   # a resubmission: still running
                continue
            running -= 1
            yield networks[event.n], epochs, saved_result(config, networks[event.n], epochs, event.result)
    finally:   # done, Ctrl-C, an error, or the caller stopped early: stop the workers
        executor.close()


def saved_result(config: RankcorrConfig, network: Network, epochs: int, result: EvalResult) -> dict:
    """The JSON-ready dict saved for one training: its setup (what decides it), and its accuracy or
    how it failed."""
    saved = {"network": network.name, "depth": network.depth, "width": network.width,
             "device": result.worker.split(":", 1)[-1],   # executors label results "<worker>:<device>"
             "setup": setup(config, network, epochs)}
    if not result.ok:
        return {**saved, "status": result.status, "accuracy": None, "message": result.message,
                "seconds": result.seconds}
    last = result.curve[-1]
    # The last epoch's time since the training started: the training's own wall time, without the
    # dataset loading that a worker's first evaluation also counts.
    return {**saved, "status": result.status, "accuracy": 100.0 - result.error, "error": result.error,
            "error_kind": "test" if "test_error" in last else "validation", "params": result.params,
            "seconds": last["seconds"], "curve": result.curve}
