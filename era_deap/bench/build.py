"""`era bench build`: train every unique network of a space with S seeds and write the table.

The networks are built in one fixed random order (the config's `seed`), so a partial build is a
uniform sample of the space, already usable for checks. Each network's S seeds train together as
one task (`Evaluator(arch, seeds)`; with `objective: train` as one grouped network, seed_group.py),
on local worker processes or a Dask cluster (the search's executors). Every finished network is
appended to the build's journal (fsynced), so a build killed at any moment, even with SIGKILL,
continues where it stopped and retrains only what was in flight. At the end of every session the
table is written from the journal: `table.json.gz`, marked complete only when every network has
all its seeds; a failed seed keeps its status and reason.
"""
from __future__ import annotations

import itertools
import platform
import random
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from ..search.devices import available_cores, threads_per_worker
from ..search.driver import versions
from ..search.executor import Done
from ..search.executors import make_executor
from ..search.journal import Journal
from ..search.runconfig import check_resume_compatible, write_config

# A build directory holds a run directory's journal, config and lock (search/rundir.py).
from ..search.rundir import CONFIG, JOURNAL
from ..search.runlock import RunLock
from ..search.safe_write import write_atomic
from ..space.architecture import complexity
from ..space.genome import to_arch
from ..space.space import load_space
from ..training.evaluate import describe
from ..training.result import EvalResult
from .table import FORMAT, SUFFIX, dumps

if TYPE_CHECKING:
    import os
    from collections.abc import Callable

    from ..space.space import SearchSpace
    from .build_config import BuildConfig

TABLE = f"table{SUFFIX}"


def build_order(space: SearchSpace, seed: int) -> list:
    """Every unique network once, shuffled by `seed`: any prefix is a uniform sample of the space."""
    genomes = space.unique_genomes()
    random.Random(seed).shuffle(genomes)
    return genomes


def seed_entry(result: EvalResult) -> dict:
    """What the table keeps of one seed's training."""
    curve = result.curve or []
    return {"status": result.status,
            "error": None if result.error is None else round(result.error, 4),
            "seconds": round(result.seconds, 3),
            "cpu_seconds": None if result.cpu_seconds is None else round(result.cpu_seconds, 3),
            "val_error": [round(c.get("val_error", c.get("test_error")), 4) for c in curve],
            "train_loss": [round(c["train_loss"], 5) for c in curve if "train_loss" in c],
            "message": (result.message.strip().splitlines() or [""])[-1][:300]}


def run_build(config: BuildConfig, out: str | os.PathLike, *, progress: bool = False, command: str = "",
              log: Callable[[str], object] = print) -> dict:
    """Build (or continue building) the table of `config` in `out`; returns the table's header."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with RunLock(out, command="era bench build"):
        if (out / CONFIG).exists():
            check_resume_compatible(out / CONFIG, config)
        write_config(out / CONFIG, config, command)
        space = load_space(config.space)
        journal = Journal(out / JOURNAL, fields=None)   # its own records: network, session
        records = journal.read()
        done = {r["key"]: r for r in records if r["type"] == "network"}
        todo = [g for g in build_order(space, config.seed) if space.key(g) not in done]
        log(f"era bench build {config.name}: {space.n_unique:,} networks x {config.seeds} seeds; "
            f"{len(done):,} built, {len(todo):,} to build")
        try:
            if todo:
                _train(config, space, journal, todo, done, progress)
        finally:
            journal.close()
            header = write_table(out, config, space, Journal(out / JOURNAL, fields=None).read())
    return header


def _train(config, space, journal, todo, done, progress) -> None:
    workers = config.evaluator.workers
    executor = make_executor(config.evaluator, config.seed, workers)
    threads = threads_per_worker(max(1, workers)) if config.evaluator.objective_kind.trains else 1
    journal.append({"type": "session", "started": time.time(), "workers": executor.capacity,
                    "threads": threads, "cpu": cpu_name(), "cores": available_cores()})
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=space.n_unique, initial=len(done), desc=config.name, unit="net", dynamic_ncols=True)
    seeds = tuple(config.training_seeds)
    pending, running, numbers = list(reversed(todo)), {}, itertools.count()
    try:
        while pending or running:
            while pending and len(running) < executor.capacity:
                genome, n = pending.pop(), next(numbers)
                running[n] = genome
                executor.submit(n, to_arch(genome), seeds)
            event = executor.next_event()
            if not isinstance(event, Done):   # a resubmission: still running
                continue
            genome = running.pop(event.n)
            results = event.result if isinstance(event.result, list) else [event.result] * len(seeds)
            key = space.key(genome)
            record = {"type": "network", "key": key, "arch": to_arch(genome), "at": time.time(),
                      "results": [seed_entry(r) for r in results]}
            journal.append(record)
            done[key] = record
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
        executor.close()


def write_table(out: Path, config: BuildConfig, space: SearchSpace, records: list) -> dict:
    """The table file from the journal's records (complete or not) in `out`; returns its header."""
    shape, classes = describe(config.evaluator.dataset)
    networks = []
    for record in sorted((r for r in records if r["type"] == "network"), key=lambda r: r["key"]):
        info = complexity(record["arch"], shape, classes)
        networks.append({"key": record["key"], "arch": record["arch"], **info, "results": record["results"]})
    # The schedule's length: the curves' (a cheap objective's curve may not be the training config's).
    lengths = {len(r["val_error"]) for n in networks for r in n["results"] if r["val_error"]}
    epochs = max(lengths) if lengths else config.evaluator.training.epochs
    header = {"format": FORMAT, "name": config.name,
              "complete": len(networks) == space.n_unique and all(len(n["results"]) == config.seeds
                                                                  for n in networks),
              "networks_built": len(networks), "networks_total": space.n_unique,
              "space": space.describe(), "seeds": config.training_seeds, "split_seed": config.seed, "epochs": epochs,
              "evaluator": config.to_dict()["evaluator"], "provenance": provenance(config, records)}
    write_atomic(out / TABLE, dumps({**header, "networks": networks}))
    return header


def provenance(config: BuildConfig, records: list) -> dict:
    """How the table was made: command, versions, machine, wall time and CPU-hours over all sessions."""
    sessions, wall, cpu_seconds, last = [], 0.0, 0.0, None
    for record in records:
        if record["type"] == "session":
            sessions.append(record)
            last = record["started"]
        elif record["type"] == "network":
            if last is not None:
                wall += record["at"] - last
                last = record["at"]
            threads = sessions[-1]["threads"] if sessions else 1
            cpu_seconds += sum(r["cpu_seconds"] if r.get("cpu_seconds") is not None else r["seconds"] * threads
                               for r in record["results"])
    first = sessions[0]["started"] if sessions else None
    finished = max((r["at"] for r in records if r["type"] == "network"), default=None)
    iso = lambda t: None if t is None else datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="seconds")  # noqa: E731
    return {"build_command": f"era bench build {Path(config.source).name} --out DIR",
            "config": config.source, "versions": versions(), "platform": platform.platform(),
            "cpu": sessions[-1]["cpu"] if sessions else cpu_name(),
            "cores": sessions[-1]["cores"] if sessions else available_cores(),
            "workers": sorted({s["workers"] for s in sessions}),
            "threads_per_worker": sorted({s["threads"] for s in sessions}),
            "sessions": len(sessions), "wall_hours": round(wall / 3600, 3),
            "cpu_hours": round(cpu_seconds / 3600, 3), "started": iso(first), "finished": iso(finished)}


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
