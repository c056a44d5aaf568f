"""Random SIGKILLs of `era search` runs with `ask_batch`, each resumed to the end and compared with the
uninterrupted run (issue 26: "deterministic mode must survive any kill").

For every strategy that takes `ask_batch` (the six, NSGA-II, ASHA, Hyperband, and NSGA-II/ParEGO on
error x params) it runs the search once without interruption, then again with KILLS SIGKILLs at random
moments (a random number of journaled results, then a random wait of up to 0.3 s; a fresh
`era search --resume` after each), and checks that the killed run's
evaluations.csv equals the uninterrupted one in every column but timing. Prints one line per run and
the total: "N kills over M runs: K identical".

    python benchmarks/kill_loop.py                 # 3 kills per run, about 5 minutes on 2 cores
    python benchmarks/kill_loop.py --kills 5 --seed 7 --out /tmp/kill_loop
"""
from __future__ import annotations

import argparse
import csv
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

# The tests' small per-strategy settings and timing columns (tests/searchkit.py), not a copy of them.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from searchkit import SMALL, TIMING  # noqa: E402

RUNS = [(kind, None) for kind in SMALL] + [("nsga2", ["error", "params"]),
                                           ("bayesian_optimization", ["error", "params"])]
# A paced learning-curve objective for ASHA/Hyperband (the package's paced_landscape takes no epochs).
OBJECTIVES = '''import os, time
from era_deap.training.objectives import curved_landscape, paced_landscape


def paced_curved(arch, seed=0, epochs=None):
    time.sleep(float(os.environ.get("ERA_OBJECTIVE_SLEEP", "0.05")))
    return curved_landscape(arch, seed, epochs)
'''


def _era(*args, env) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "era_deap.cli", *map(str, args)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _results(run_dir: Path) -> int:
    journal = run_dir / "journal.jsonl"
    return journal.read_bytes().count(b'"type":"result"') if journal.exists() else 0


def _rows(run_dir: Path) -> list[dict]:
    with open(run_dir / "evaluations.csv", newline="") as f:
        return [{k: v for k, v in row.items() if k not in TIMING} for row in csv.DictReader(f)]


def _config(directory: Path, kind: str, objectives, budget: int, batch: int) -> Path:
    objective = "kill_objectives:" + ("paced_curved" if kind in ("asha", "hyperband") else "paced_landscape")
    name = kind + ("-mo" if objectives else "")
    data = {"name": name, "seed": 0, "budget": budget, "ask_batch": batch,
            "strategy": {"kind": kind, **SMALL[kind]},
            "evaluator": {"objective": objective, "workers": 1}}
    if objectives:
        data["objectives"] = objectives
    path = directory / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


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
    (work / "kill_objectives.py").write_text(OBJECTIVES)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(work), os.environ.get("PYTHONPATH", "")]),
           "ERA_OBJECTIVE_SLEEP": "0.05", "PYTHONUNBUFFERED": "1"}
    rng = random.Random(args.seed)
    kills = identical = 0
    for kind, objectives in RUNS:
        config = _config(work, kind, objectives, args.budget, args.batch)
        reference, killed = work / f"{config.stem}-reference", work / f"{config.stem}-killed"
        _finish(_era("search", config, "--out", reference, "--no-progress", env=env), f"{kind} reference")
        points = sorted(rng.sample(range(1, args.budget), args.kills))
        done = []
        for point in points:
            process = _era("search", config, "--out", killed, "--resume", "--no-progress", env=env)
            while _results(killed) < point and process.poll() is None:
                time.sleep(0.005)
            # A random moment after the point: results are told a batch at a time, so a kill right at a count
            # lands between batches; later ones land while a batch's asks train or its results are written.
            time.sleep(rng.uniform(0.0, 0.3))
            if process.poll() is not None:      # finished before the kill: nothing to kill
                _finish(process, f"{kind} resumed")
                continue
            process.send_signal(signal.SIGKILL)
            process.wait()
            done.append(_results(killed))
        _finish(_era("search", config, "--out", killed, "--resume", "--no-progress", env=env), f"{kind} final")
        same = _rows(killed) == _rows(reference)
        kills += len(done)
        identical += same
        print(f"{config.stem:28s} killed after {done} journaled results: "
              f"{'identical' if same else 'DIFFERENT'} ({len(_rows(killed))} rows)", flush=True)
    print(f"{kills} kills over {len(RUNS)} runs (ask_batch {args.batch}, budget {args.budget}): "
          f"{identical} of {len(RUNS)} identical to the uninterrupted run")
    return 0 if identical == len(RUNS) else 1


if __name__ == "__main__":
    sys.exit(main())
