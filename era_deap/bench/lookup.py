"""`objective: table`: a search scored by looking networks up in a benchmark table (no training).

`observe: seed` (the default): evaluation seed s reads the table's training seed s mod S, so asking for
a network again with another seed behaves like retraining it (a live search's noise). `observe: mean`:
every seed reads the mean over the table's seeds, one deterministic value per network (as NAS-Bench-201
is queried): a comparison then measures the searches, not which seed each network drew (docs/bench.md,
"Observing the mean or one seed"). The result carries the training seconds the table recorded
(the run's time axis is then simulated training time) and the network's per-epoch curve. A run's
space must be the table's: `check_space` says so before anything starts. No torch on this path.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import ConfigError
from .table import Table

if TYPE_CHECKING:
    from ..space.space import SearchSpace

OBSERVE = ("seed", "mean")


class TableObjective:
    def __init__(self, spec: str, observe: str = "seed"):
        if observe not in OBSERVE:
            raise ConfigError(f"evaluator.observe: expected one of {', '.join(OBSERVE)}, got {observe!r}")
        self.table, self.observe = Table.load(spec), observe
        if not self.table.complete:
            built = len(self.table.networks)
            raise ConfigError(f"evaluator.table: {self.table.source} is a partial table ({built:,} of "
                              f"{self.table.space.n_unique:,} networks); finish it with `era bench build` first")

    @property
    def epochs(self) -> int:
        """The schedule the table recorded: its full fidelity (a multi-fidelity search's top rung)."""
        return self.table.data["epochs"]

    def check_space(self, space: SearchSpace) -> None:
        """ConfigError unless `space` has exactly the table's gene values."""
        if space.describe() != self.table.space.describe():
            differ = [g for g in space.describe() if space.describe()[g] != self.table.space.describe()[g]]
            shown = lambda s: "; ".join(f"{g} {s.describe()[g]}" for g in differ[:3])  # noqa: E731
            hint = (f"; set `space:` to the table's space file ({self.table.space_file})" if self.table.space_file
                    else "; set `space:` to a file with the table's gene values (`era bench info` lists them)")
            raise ConfigError(f"evaluator.table: table {self.table.name!r} covers another space than this run's "
                              f"({space.source}): the table has {shown(self.table.space)}, the run has {shown(space)}"
                              f"{hint}")

    def __call__(self, arch: dict, seed: int, epochs: int | None = None) -> dict:
        """The recorded training of `arch` for seed index `seed` mod S (or their mean); with `epochs`, the network
        after that many epochs of the table's schedule (its curve there: "epoch r of the full
        schedule", as NAS-Bench-201 answers a fidelity), and that share of the training seconds."""
        key = self.table.key(arch)
        if key not in self.table.networks:
            return {"status": "error", "message": f"{key} is not in table {self.table.name!r}"}
        result = self.table.mean_result(key) if self.observe == "mean" else self.table.result(key, seed)
        full = len(result["val_error"]) or self.table.data["epochs"]
        if epochs is not None and not result["val_error"] and result["status"] == "ok":
            return {"status": "error", "message": f"table {self.table.name!r} records no learning curve for {key}: "
                                                  f"it cannot answer a fidelity (epochs={epochs})"}
        last = full if epochs is None else min(int(epochs), full)
        curve = [{"epoch": e + 1, "val_error": v, **({"train_loss": result["train_loss"][e]}
                                                      if e < len(result["train_loss"]) else {})}
                 for e, v in enumerate(result["val_error"][:last])]
        # The training's CPU seconds (one thread): what it cost, however busy the build machine was.
        seconds = result["cpu_seconds"] if result.get("cpu_seconds") is not None else result["seconds"]
        if result["status"] != "ok":
            return {"status": result["status"], "seconds": seconds, "curve": curve, "message": result["message"]}
        error = result["error"] if last == full else result["val_error"][last - 1]
        return {"status": "ok", "error": error, "seconds": seconds * last / full, "curve": curve,
                "message": result["message"]}
