"""What a search minimises: `objectives: [error, params, ...]`, one DEAP fitness per evaluation.

    error      the validation error in percent (always first; the single objective by default)
    params     trainable parameters, from the architecture arithmetic (no training needed)
    macs       multiply-adds per image, likewise
    seconds    the evaluation's training seconds (on a benchmark table: the recorded ones)
    "package.module:function"   a cost of one's own, `(arch, result) -> float`, given the network and
               its EvalResult (status, error, params, curve, seconds, ...)

All are minimised. A failed evaluation gets finite worst values (never NaN, which breaks DEAP's
comparisons) and never enters a population, a hall of fame or a Pareto front.

For the hypervolume every objective is put on a fixed [0, 1] scale, the same for every run, so that
hypervolumes compare across runs and strategies: error / 100; params, macs and seconds as log10 between
fixed bounds (LOG_BOUNDS); a cost of one's own as log10(1 + value) / 12. The reference point is 1.1 in
every coordinate (REFERENCE): a front point at the reference's edge still counts a little.
"""
from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING

from ..config import resolve_callable
from ..settings import OBJECTIVES
from ..space.architecture import complexity
from ..space.genome import to_arch
from ..training.result import WORST_ERROR

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from ..training.result import EvalResult

BUILTIN = OBJECTIVES    # (the config checks the names: settings.SearchConfig)
WORST_COST = 1e18
LOG_BOUNDS = {"params": (1.0, 9.0), "macs": (1.0, 12.0), "seconds": (-3.0, 5.0)}
OWN_LOG_RANGE = 12.0
REFERENCE = 1.1


class Objectives:
    def __init__(self, names: Iterable[str], input_shape: Sequence[int], num_classes: int):
        self.names = list(names)
        self.shape, self.classes = tuple(input_shape), num_classes
        self.own = {n: resolve_callable(n, f"objectives ({n})") for n in self.names if n not in BUILTIN}

    def __len__(self) -> int:
        return len(self.names)

    @property
    def multi(self) -> bool:
        return len(self.names) > 1

    def values(self, individual: Sequence[str | int], result: EvalResult) -> tuple:
        """The fitness values of one evaluation (worst ones for a failure)."""
        if not result.ok:
            return (WORST_ERROR, *[WORST_COST] * (len(self.names) - 1))
        arch = to_arch(individual)
        info = None
        out = []
        for name in self.names:
            if name == "error":
                out.append(result.error)
            elif name in ("params", "macs"):
                info = info or complexity(arch, self.shape, self.classes)
                out.append(float(result.params if name == "params" and result.params else info[name]))
            elif name == "seconds":
                out.append(float(result.seconds))
            else:
                out.append(self._own(name, arch, result))
        return tuple(out)

    def _own(self, name: str, arch: dict, result) -> float:
        """A cost of one's own; one that raises or gives no finite number is the worst cost (with a
        warning): a failure inside one evaluation never ends a search."""
        try:
            value = float(self.own[name](arch, result))
        except Exception as exc:  # noqa: BLE001 - the user's function
            warnings.warn(f"objectives ({name}) raised {type(exc).__name__}: {exc}; the worst cost counts",
                          stacklevel=2)
            return WORST_COST
        return value if math.isfinite(value) else WORST_COST

    def normalised(self, values: Sequence[float]) -> tuple:
        """`values` on the fixed [0, 1] scales of the hypervolume (module docstring)."""
        out = []
        for name, value in zip(self.names, values):
            if name == "error":
                out.append(value / 100.0)
            elif name in LOG_BOUNDS:
                low, high = LOG_BOUNDS[name]
                out.append((math.log10(max(value, 1e-12)) - low) / (high - low))
            else:
                out.append(math.log10(1.0 + max(value, 0.0)) / OWN_LOG_RANGE)
        return tuple(out)


def hypervolume(points: Sequence[Sequence[float]], reference: Sequence[float] | None = None) -> float:
    """The hypervolume dominated by `points` (minimised, normalised) up to `reference`, by the
    implementation DEAP's own indicator uses (`moocore.hypervolume`, a dependency of deap); points
    beyond the reference in any coordinate add nothing."""
    import moocore
    if not points:
        return 0.0
    dims = len(points[0])
    reference = [REFERENCE] * dims if reference is None else list(reference)
    inside = [p for p in points if all(x < r for x, r in zip(p, reference))]
    return float(moocore.hypervolume(inside, ref=reference)) if inside else 0.0
