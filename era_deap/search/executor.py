"""What an executor is (docs/design.md §7): where evaluations run, behind one small protocol.

    executor.capacity                              evaluations it can hold in flight
    executor.submit(n, arch, seed, epochs=None)    seed: an int, or a tuple of seeds (one result per seed);
                                                   epochs: only the schedule's first epochs (a rung)
    executor.next_event() -> Done | Resubmitted    the first thing that happened (no generation barrier)
    executor.close()

Every submitted evaluation is answered by exactly one `Done`, after any number of `Resubmitted`. The
executors: in the driver process and local worker processes (executors.py, whose `make_executor` picks
one from the config), and a Dask cluster (dask_executor.py, the client; dask_worker.py, the workers).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Union

from ..training.result import OOM, EvalResult


@dataclass(frozen=True)
class Done:
    """Evaluation n has its result: an EvalResult, or a list of them for a tuple of seeds. When the
    executor itself failed (a worker died, a Dask task raised) one EvalResult stands for all seeds."""
    n: int
    result: Union[EvalResult, list]


@dataclass(frozen=True)
class Resubmitted:
    """Evaluation n runs again (its Dask worker died, or it ran out of memory beside other evaluations
    and now runs alone); the driver journals the reason, and the result still comes once, as a Done."""
    n: int
    reason: str


Event = Union[Done, Resubmitted]


class Executor(Protocol):
    @property
    def capacity(self) -> int: ...

    def submit(self, n: int, arch: dict, seed: int | tuple[int, ...], epochs: int | None = None) -> None: ...

    def next_event(self) -> Event: ...

    def close(self) -> None: ...


def ran_out_of_memory(result: EvalResult | list[EvalResult]) -> bool:
    """Whether an evaluation's result (or one of a tuple of seeds' results) is `oom`."""
    return any(r.status == OOM for r in (result if isinstance(result, list) else [result]))
