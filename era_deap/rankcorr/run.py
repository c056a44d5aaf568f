"""Running a rank-correlation study: train what is missing, save each training at once, rewrite the
outputs whenever a fidelity is complete (era_deap.rankcorr.study says what a training is)."""
from __future__ import annotations

import json
from pathlib import Path

from ..search.safe_write import write_atomic
from ..space.space import load_space
from .study import RankcorrConfig, load_result, result_path
from .tables import write_outputs
from .workers import train_all


def run_study(config: RankcorrConfig, out: Path, log=print) -> dict:
    """Train what is missing (low fidelities first) and rewrite the outputs each time a fidelity is
    complete. Returns the results {(network slug, epochs): dict}."""
    (out / "trainings").mkdir(parents=True, exist_ok=True)
    space = load_space(config.space)
    networks = config.networks()
    results = {(n.slug, e): r for n in networks for e in config.fidelities
               if (r := load_result(out, config, n, e)) is not None}
    tasks = [(n, e) for e in config.fidelities for n in networks if (n.slug, e) not in results]
    log(f"rankcorr: {len(networks)} networks x {len(config.fidelities)} fidelities; "
        f"{len(results)} trainings saved, {len(tasks)} to train")
    left = {e: sum(1 for _, f in tasks if f == e) for e in config.fidelities}
    for network, epochs, result in (train_all(config, tasks) if tasks else []):
        write_atomic(result_path(out, network, epochs), json.dumps(result, indent=1).encode())
        results[(network.slug, epochs)] = result
        shown = f"{result['accuracy']:.2f}%" if result["accuracy"] is not None else result["status"]
        log(f"  {network.name:<16} {epochs:>4} epochs: {shown} ({result['seconds']:.1f} s)")
        left[epochs] -= 1
        if left[epochs] == 0 and epochs != config.fidelities[-1]:
            write_outputs(config, space, results, out)   # a long study shows its low fidelities early
    write_outputs(config, space, results, out)
    return results


