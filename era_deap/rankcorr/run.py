"""Running a rank-correlation study: train what is missing, save each training at once, rewrite the
outputs whenever a fidelity is complete (era_deap.rankcorr.study says what a training is)."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..search.safe_write import write_atomic
from ..space.space import load_space
from .study import WIDTH_LEGEND, RankcorrConfig, load_result, result_path
from .tables import write_outputs
from .workers import train_all

if TYPE_CHECKING:
    from collections.abc import Callable


def run_study(config: RankcorrConfig, out: Path, log: Callable[[str], object] = print, progress: bool = False) -> dict:
    """Train what is missing (low fidelities first) and rewrite the outputs each time a fidelity is
    complete; `log` gets a line per training (its error, as every era command prints), `progress`
    adds a tqdm bar on stderr. Returns the results {(network slug, epochs): dict}."""
    (out / "trainings").mkdir(parents=True, exist_ok=True)
    space = load_space(config.space)
    networks = config.networks()
    results = {(n.slug, e): r for n in networks for e in config.fidelities
               if (r := load_result(out, config, n, e)) is not None}
    tasks = [(n, e) for e in config.fidelities for n in networks if (n.slug, e) not in results]
    log(f"rankcorr: {len(networks)} networks x {len(config.fidelities)} fidelities; "
        f"{len(results)} trainings saved, {len(tasks)} to train")
    log(f"rankcorr: {WIDTH_LEGEND}")
    bar = None
    if progress and tasks:
        from tqdm import tqdm
        bar = tqdm(total=len(tasks), desc="rankcorr", unit="training", dynamic_ncols=True, file=sys.stderr)
    left = {e: sum(1 for _, f in tasks if f == e) for e in config.fidelities}
    try:
        for network, epochs, result in (train_all(config, tasks) if tasks else []):
            write_atomic(result_path(out, network, epochs), json.dumps(result, indent=1).encode())
            results[(network.slug, epochs)] = result
            shown = f"error {result['error']:.2f}% ({result['error_kind']})" if result["status"] == "ok" \
                else result["status"]
            line = f"  {network.name:<16} {epochs:>4} epochs: {shown} ({result['seconds']:.1f} s)"
            if bar is None:
                log(line)
            else:
                with bar.external_write_mode(file=sys.stderr):   # the line above the bar, not through it
                    log(line)
                bar.update()
            left[epochs] -= 1
            if left[epochs] == 0 and epochs != config.fidelities[-1]:
                write_outputs(config, space, results, out)   # a long study shows its low fidelities early
    finally:
        if bar is not None:
            bar.close()
    write_outputs(config, space, results, out)
    return results


