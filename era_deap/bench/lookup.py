"""`objective: table`: a search scored by looking networks up in a benchmark table (no training).

Evaluation seed s reads the table's training seed s mod S, so asking for a network again with
another seed behaves like retraining it; the result carries the training seconds the table recorded
(the run's time axis is then simulated training time) and the network's per-epoch curve. A run's
space must be the table's: `check_space` says so before anything starts. No torch on this path.
"""
from __future__ import annotations

from ..errors import ConfigError
from .table import Table


class TableObjective:
    def __init__(self, spec: str):
        self.table = Table.load(spec)
        if not self.table.complete:
            built = len(self.table.networks)
            raise ConfigError(f"evaluator.table: {self.table.source} is a partial table ({built:,} of "
                              f"{self.table.space.n_unique:,} networks); finish it with `era bench build` first")

    def check_space(self, space) -> None:
        """ConfigError unless `space` has exactly the table's gene values."""
        if space.describe() != self.table.space.describe():
            differ = [g for g in space.describe() if space.describe()[g] != self.table.space.describe()[g]]
            shown = lambda s: "; ".join(f"{g} {s.describe()[g]}" for g in differ[:3])  # noqa: E731
            raise ConfigError(f"evaluator.table: table {self.table.name!r} covers another space than this run's "
                              f"({space.source}): the table has {shown(self.table.space)}, the run has {shown(space)}")

    def __call__(self, arch: dict, seed: int) -> dict:
        key = self.table.key(arch)
        if key not in self.table.networks:
            return {"status": "error", "message": f"{key} is not in table {self.table.name!r}"}
        result = self.table.result(key, seed)
        curve = [{"epoch": e + 1, "val_error": v, **({"train_loss": result["train_loss"][e]}
                                                      if e < len(result["train_loss"]) else {})}
                 for e, v in enumerate(result["val_error"])]
        # The training's CPU seconds (one thread): what it cost, however busy the build machine was.
        seconds = result["cpu_seconds"] if result.get("cpu_seconds") is not None else result["seconds"]
        return {"status": result["status"], "error": result["error"], "seconds": seconds,
                "curve": curve, "message": result["message"]}
