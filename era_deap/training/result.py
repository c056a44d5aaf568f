"""What one evaluation produces. Shared by the evaluator, the strategies, the driver and the journal."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

OK = "ok"
OOM = "oom"                  # CUDA out of memory or MemoryError
DIVERGED = "diverged"        # NaN/inf loss, or a NaN/inf objective value
ERROR = "error"              # any other exception (traceback kept in `message`)
INVALID = "invalid"          # genome not in the space: never trained
INTERRUPTED = "interrupted"  # SIGTERM/Ctrl-C during the evaluation: not counted, retrained on resume
STATUSES = (OK, OOM, DIVERGED, ERROR, INVALID, INTERRUPTED)

# Finite fitness given to failed evaluations in DEAP (never NaN: DEAP's comparisons break on NaN).
# Failed individuals are also kept out of populations, the hall of fame and the GP.
WORST_ERROR = 100.0


@dataclass
class EvalResult:
    status: str
    error: float | None = None          # validation error in percent; None unless status is ok
    seconds: float = 0.0                # wall time of the evaluation
    cpu_seconds: float | None = None    # CPU time of the process while it evaluated (a seed group: one
                                        # seed's share): the work done, whatever else ran on the machine
    message: str = ""                   # failure reason; traceback for `error`
    params: int | None = None
    depth: int | None = None
    curve: list = field(default_factory=list)  # per epoch: {"epoch", "train_loss", "val_error", "lr", "seconds"}
    images_per_second: float | None = None
    worker: str = ""                    # which worker/device evaluated it
    cached: bool = False                # result reused from an earlier evaluation of the same network

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"unknown evaluation status {self.status!r}")
        if self.status == OK and (self.error is None or not math.isfinite(self.error)):
            raise ValueError(f"an ok evaluation needs a finite error, got {self.error!r}")

    @property
    def ok(self) -> bool:
        return self.status == OK

    @property
    def fitness(self) -> float:
        """The value DEAP minimises: the error, or WORST_ERROR for a failure."""
        return self.error if self.ok else WORST_ERROR

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "EvalResult":
        return cls(**data)


def label_worker(result: EvalResult | list[EvalResult], name: str) -> None:
    """Record which worker evaluated `result` (an EvalResult, or a seed group's list of them)."""
    for one in result if isinstance(result, list) else [result]:
        one.worker = name
