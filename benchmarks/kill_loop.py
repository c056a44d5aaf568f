"""Random SIGKILLs of `era search` runs with `ask_batch`, each resumed to the end and compared with the
uninterrupted run (issue 26: "deterministic mode must survive any kill").

For every strategy that takes `ask_batch` (the six, NSGA-II, ASHA, Hyperband, and NSGA-II/ParEGO on
error x params) it runs the search once without interruption, then again with KILLS SIGKILLs at random
moments (a random number of journaled results, then a random wait of up to 0.3 s; a fresh
`era search --resume` after each), and checks that the killed run's evaluations.csv equals the
uninterrupted one in every column but timing. Prints one line per run and
the total: "N kills over M runs: K identical".

    python benchmarks/kill_loop.py                 # 3 kills per run, about 3 minutes on 2 cores
    python benchmarks/kill_loop.py --kills 5 --seed 7 --out /tmp/kill_loop
"""
from __future__ import annotations

import argparse
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# The tests' settings and helpers (tests/searchkit.py), not a copy of them.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from searchkit import SMALL, journal_results, rows, start_era, write_config  # noqa: E402

RUNS = [(kind, None) for kind in SMALL] + [("nsga2", ["error", "params"]),
                                           ("bayesian_optimization", ["error", "params"])]
ENV = {"ERA_OBJECTIVE_SLEEP": "0.05"}


def _config(directory: Path, kind: str, objectives, budget: int, batch: int) -> Path:
    objective = "era_deap.training.objectives:" + ("paced_curved_landscape" if kind in ("asha", "hyperband")
                                                   else "paced_landscape")
    more = {"objectives": objectives} if objectives else {}
    return write_config(directory, kind, objective=objective, budget=budget, workers=1, ask_batch=batch,
                        name=kind + ("-mo" if objectives else ""), **more)


def _finish(process: subprocess.Popen, what: str) -> None:
    _, stderr = process.communicate()
    if process.returncode != 0:
        raise SystemExit(f"{what} exited {process.returncode}:\n{stderr}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=3, help="SIGKILLs per run (default 3)")
    parser.add_argument("--budget", type=int, default=24)
    parser.add_argument("--batch", type=int, default=5, help="ask_batch (default 5)")
    parser.add_argument("--seed", type=int, default=0, help="seeds the kill points")
    parser.add_argument("--out", type=Path, default=None, help="working folder (default: a temporary one)")
    args = parser.parse_args(argv)
    work = args.out or Path(tempfile.mkdtemp(prefix="kill_loop-"))
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    rng = random.Random(args.seed)
    kills = identical = 0
    for kind, objectives in RUNS:
        config = _config(work, kind, objectives, args.budget, args.batch)
        reference, killed = work / f"{config.stem}-reference", work / f"{config.stem}-killed"
        _finish(start_era("search", config, "--out", reference, "--no-progress", env=ENV), f"{kind} reference")
        points = sorted(rng.sample(range(1, args.budget), args.kills))
        done = []
        for point in points:
            process = start_era("search", config, "--out", killed, "--resume", "--no-progress", env=ENV)
            while journal_results(killed) < point and process.poll() is None:
                time.sleep(0.005)
            # A random moment after the point: results are told a batch at a time, so a kill right at a count
            # lands between batches; later ones land while a batch's asks train or its results are written.
            time.sleep(rng.uniform(0.0, 0.3))
            if process.poll() is not None:      # finished before the kill: nothing to kill
                _finish(process, f"{kind} resumed")
                continue
            process.send_signal(signal.SIGKILL)
            process.wait()
            done.append(journal_results(killed))
        _finish(start_era("search", config, "--out", killed, "--resume", "--no-progress", env=ENV), f"{kind} final")
        same = rows(killed) == rows(reference)
        kills += len(done)
        identical += same
        print(f"{config.stem:28s} killed after {done} journaled results: "
              f"{'identical' if same else 'DIFFERENT'} ({len(rows(killed))} rows)", flush=True)
    print(f"{kills} kills over {len(RUNS)} runs (ask_batch {args.batch}, budget {args.budget}): "
          f"{identical} of {len(RUNS)} identical to the uninterrupted run")
    return 0 if identical == len(RUNS) else 1


if __name__ == "__main__":
    sys.exit(main())
