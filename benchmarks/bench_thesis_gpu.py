"""The thesis space on one GPU: per-network speed, evaluations per hour for K workers, the searches' cost.

    python benchmarks/bench_thesis_gpu.py --json thesis-gpu.json     # a GPU: ~6-7 minutes on an H200
    python benchmarks/bench_thesis_gpu.py --device cpu --networks 3 --train-size 128 --image-size 8 \\
        --concurrency-train-size 64 --workers-list 1,2 --max-mmacs 5   # tiny, on CPU (~20 s)

What is measured. `--networks` networks drawn as the thesis's random phase draws them: uniform
configurations of configs/space.yaml (`SearchSpace.draw(rng, "configurations")`, seed `--seed`, no
duplicates). Each trains on CIFAR-shaped synthetic data (`--train-size` 45,000 training and
`--validation-size` 5,000 validation images, 3 x 32 x 32) with the thesis search schedule of
configs/thesis/base.yaml (batch 128, lr 0.1, momentum 0.9, weight decay 1e-4, 20 epochs, of which
`--epochs` are run: `stop_after`), through the search's own path: spawned worker processes running
era_deap.search.executors' worker loop around an `Evaluator`, which calls `train()` (bf16 autocast and a
CUDA graph on a bf16-capable GPU, as in a search). A worker that runs out of memory records `oom` and
goes on. Every worker first trains a tiny network for one epoch (process start-up, CUDA context,
cuDNN handles, the dataset) before any clock starts: a search worker pays that once for 200 evaluations.

1. Alone (one worker, full size): each network's img/s (the engine's: training steps of all measured
   epochs), steady seconds per epoch (the epochs after the first: training + validation), and the first
   epoch's extra seconds (set-up, model build, cuDNN autotuning, CUDA-graph capture; whatever the
   evaluation costs beyond its steady epochs). Projected seconds of one thesis evaluation = first epoch
   + 19 x steady epoch: model build, 20 epochs of training and validation and the evaluator's memory
   release, all included; not included are the graph recorded again at the lr drop (epoch 18: one more
   capture) and loading the dataset (once per worker). Stops starting networks after
   `--alone-budget-seconds`; networks not reached drop out of everything (said in the output).
2. K workers at once on the same device, for K in `--workers-list`, each phase in fresh processes. Worker
   w goes through the networks from position w*n/K on (so the workers train different networks at the
   same time, as a search's do) at `--concurrency-train-size` images per epoch (default about 1/8 of
   the training images, in whole batches; validation scaled alike), starting measurements for
   `--budget-seconds`. A worker out of measurements keeps training (one-epoch fillers, not recorded)
   until the last measurement ends, so no measurement runs under less contention than K. A measurement's
   projected seconds = first epoch's extra + 20 x steady epoch x (train size / concurrency train size).
   A network that would not fit (K x its predicted time alone at that size, the worst case, > twice the
   budget) is skipped at that K.
   Mean seconds per evaluation under K, each network weighing equally: a measured network's mean
   projection; a network not reached its alone projection x the phase's slowdown (sum of measured /
   sum of the same networks alone, time-weighted); a skipped one its alone projection x K (no gain from
   running beside others: conservative, printed with the alternative where it scales like the measured).
   Evaluations per hour at K = 3600 x K / that mean.
3. Projected GPU-hours of one thesis search (200 evaluations, configs/thesis/base.yaml's budget) and of
   the six, at every K, next to the thesis's ~75-80 h per search on two GTX 1080 Ti. The search driver
   and Bayesian optimisation's model fitting are not included (small next to training).

Without CUDA MPS, processes time-share the GPU (their kernels do not overlap); what K workers gain then
comes from filling each other's idle gaps (host work, syncs, validation, capture). This measures the
machine as it is: `nvidia-smi` in benchmarks/gpu_thesis.sh prints the compute mode. `--json PATH`
writes every number (after each phase, so a run cut short still leaves what it measured).
"""
from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing as mp
import os
import random
import statistics
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass
from multiprocessing.connection import wait
from pathlib import Path

import torch
from tqdm import tqdm

from era_deap.config import from_mapping, read_yaml
from era_deap.search.devices import threads_per_worker
from era_deap.search.executors import _worker_main
from era_deap.settings import DatasetConfig, EvaluatorConfig, TrainingConfig
from era_deap.space import load_space, to_arch
from era_deap.space.architecture import complexity
from era_deap.training.result import ERROR, EvalResult
from era_deap.training.train import resolve_device

ROOT = Path(__file__).resolve().parents[1]
if __name__ == "__mp_main__":   # in a worker (spawn runs this module under that name there)
    # train()'s (disabled) progress bars make tqdm's multiprocessing lock; a worker killed in a filler
    # would leave it to the resource tracker's "leaked semaphore" warning at exit. One process needs no more.
    tqdm.set_lock(threading.RLock())
THESIS = ROOT / "configs" / "thesis" / "base.yaml"
SEARCHES = 6                       # evolution, regularized and crossover evolution, random, local, BO
THESIS_HOURS_PER_SEARCH = (75, 80)  # wall hours per search on two GTX 1080 Ti (thesis §4)
THESIS_GPUS = 2
PAPER_GMACS = {"mean": 0.17, "median": 0.02, "p90": 0.47, "max": 3.46}  # uniform thesis-space networks
# Warms each worker up (before any clock) with one epoch of a tiny network.
WARMUP_ARCH = {"block": "basic", "sections": [0, 1, 1, 1], "filters": 8, "filter_update": 1, "group_size": 8}
FLOP_PER_MAC_TRAINING, FLOP_PER_MAC_VALIDATION = 6, 2   # forward + backward (2x forward); forward only


@dataclass
class Network:
    index: int
    key: str
    arch: dict
    depth: int
    params: int
    macs: int            # per image at the benchmark's image size
    cifar_macs: int      # per 3 x 32 x 32 image (the paper estimate's)


# --- arithmetic (tested directly) -------------------------------------------------------------------

def epoch_seconds(curve: list, total: float) -> tuple[float, float]:
    """(first, steady) of an evaluation that ran >= 2 epochs: steady is the mean epoch after the first
    (training + validation, from the curve's cumulative seconds); first is the rest of the evaluation's
    `total` seconds (set-up, model build, the first epoch with autotuning and capture, clean-up)."""
    if len(curve) < 2:
        raise ValueError(f"a steady epoch needs at least two epochs, got {len(curve)}")
    steady = (curve[-1]["seconds"] - curve[0]["seconds"]) / (len(curve) - 1)
    return total - (len(curve) - 1) * steady, steady


def projected_seconds(first: float, steady: float, epochs: int, scale: float = 1.0) -> float:
    """Seconds of a full evaluation of `epochs` epochs: the first epoch's extra (first - steady, paid once,
    not scaled) plus `epochs` steady epochs, each `scale` times the measured one (images per epoch of the
    full evaluation / of the measurement). With scale 1: first + (epochs - 1) x steady."""
    return first - steady + epochs * steady * scale


def predicted_alone(first: float, steady: float, epochs: int, scale: float) -> float:
    """Seconds a measurement of `epochs` epochs at 1/scale of the images takes alone, from a full-size one."""
    return first - steady + epochs * steady / scale


def fitting(alone: dict, k: int, epochs: int, scale: float, budget: float) -> list[int]:
    """The networks (of `alone`: network -> its alone measurement) measured with K workers: those whose
    measurement at 1/scale of the images takes at most twice the budget even if K slow it down K times."""
    return [i for i, r in alone.items()
            if k * predicted_alone(r["first"], r["steady"], epochs, scale) <= 2 * budget]


def rotation(n: int, k: int, worker: int) -> list[int]:
    """The order in which worker `worker` of `k` goes through networks 0..n-1: from position worker*n/k on."""
    start = worker * n // k
    return [(start + j) % n for j in range(n)]


def contention(alone: dict, measured: list, skipped, k: int) -> dict:
    """Mean seconds per evaluation when `k` run at once, every network of `alone` (network -> projected
    seconds alone) weighing equally. `measured`: (network, projected seconds under contention) per
    measurement. A measured network counts its mean; one not reached its alone seconds x the slowdown
    (time-weighted: sum measured / sum alone over the measurements); a skipped one its alone seconds x k."""
    pairs = [(i, q) for i, q in measured if i in alone]
    skipped = set(skipped)
    slowdown = sum(q for _, q in pairs) / sum(alone[i] for i, _ in pairs) if pairs else None
    by_network = {i: statistics.fmean(q for j, q in pairs if j == i) for i in {i for i, _ in pairs}}
    unmeasured = slowdown or k    # nothing measured at all: no gain from running beside others

    def mean_seconds(factor) -> float:
        return statistics.fmean(by_network[i] if i in by_network else alone[i] * factor(i) for i in alone)

    mean = mean_seconds(lambda i: k if i in skipped else unmeasured)
    like_measured = mean_seconds(lambda i: unmeasured)
    return {"k": k, "slowdown": slowdown, "networks_measured": len(by_network), "skipped": sorted(skipped),
            "seconds_per_evaluation": mean, "evaluations_per_hour": evaluations_per_hour(k, mean),
            "evaluations_per_hour_skipped_like_measured": evaluations_per_hour(k, like_measured)}


def evaluations_per_hour(k: int, seconds_per_evaluation: float) -> float:
    return 3600.0 * k / seconds_per_evaluation


def search_cost(evals_per_hour: float, budget: int, searches: int = SEARCHES) -> dict:
    """GPU-hours of one search of `budget` evaluations and of `searches` such searches, on one GPU."""
    one = budget / evals_per_hour
    return {"one_search_gpu_hours": one, "all_searches_gpu_hours": searches * one, "searches": searches}


def mac_statistics(gmacs: list) -> dict:
    return {"mean": statistics.fmean(gmacs), "median": statistics.median(gmacs),
            "p90": statistics.quantiles(gmacs, n=10, method="inclusive")[8] if len(gmacs) > 1 else gmacs[0],
            "max": max(gmacs)}


# --- the sample --------------------------------------------------------------------------------------

def sample_networks(space, count: int, seed: int, input_shape: tuple, max_mmacs: float | None = None,
                    min_filters: int = 0) -> list[Network]:
    """`count` distinct networks of uniform configurations, in draw order. `max_mmacs` and `min_filters`
    redraw networks outside those limits (small runs on CPU: no longer the thesis's distribution)."""
    rng, networks, seen = random.Random(seed), [], set()
    for _ in range(100_000):
        if len(networks) == count:
            return networks
        genome = space.draw(rng, sampling="configurations")
        arch, key = to_arch(genome), space.key(genome)
        info = complexity(arch, input_shape)
        if key in seen or arch["filters"] < min_filters or (max_mmacs and info["macs"] > max_mmacs * 1e6):
            continue
        seen.add(key)
        networks.append(Network(len(networks), key, arch, info["depth"], info["params"], info["macs"],
                                complexity(arch)["macs"]))
    raise SystemExit(f"found only {len(networks)} networks within --max-mmacs/--min-filters")


def thesis_protocol() -> tuple[TrainingConfig, int]:
    """The search schedule (evaluator.training) and budget of configs/thesis/base.yaml."""
    data = read_yaml(THESIS)
    training = from_mapping(TrainingConfig, data["evaluator"]["training"], prefix="evaluator.training.",
                            where=str(THESIS))
    return training, int(data["budget"])


# --- worker processes -------------------------------------------------------------------------------

class Workers:
    """K spawned processes, each running the search's own worker loop (era_deap.search.executors) around
    one Evaluator: the dataset loads once per process, CUDA OOM or divergence becomes a status."""

    def __init__(self, k: int, device: str, threads: int, config: EvaluatorConfig):
        context = mp.get_context("spawn")
        self.conns, self.processes, self.tasks, self.dead = [], [], [None] * k, set()
        for w in range(k):
            parent, child = context.Pipe()
            process = context.Process(target=_worker_main, args=(child, f"w{w}", device, threads, config, 0),
                                      daemon=True)
            process.start()
            child.close()
            self.conns.append(parent)
            self.processes.append(process)

    def submit(self, w: int, task: tuple, arch: dict, epochs: int) -> None:
        self.tasks[w] = task
        self.conns[w].send((0, arch, 0, epochs))   # (n, arch, seed, epochs): seed 0 for every network

    def next(self) -> tuple[int, tuple, EvalResult]:
        """(worker, its task, result) of the first task to end; an `error` result when the worker died."""
        handles = {}
        for w, task in enumerate(self.tasks):
            if task is not None:
                handles[self.conns[w]] = handles[self.processes[w].sentinel] = w
        ready = wait(list(handles))
        for handle in ready:
            w = handles[handle]
            if handle is self.conns[w]:
                try:
                    _, result = self.conns[w].recv()
                except (EOFError, OSError):
                    continue
                task, self.tasks[w] = self.tasks[w], None
                return w, task, result
        w = handles[ready[0]]
        task, self.tasks[w] = self.tasks[w], None
        self.dead.add(w)
        self.processes[w].join(timeout=5)
        code = self.processes[w].exitcode
        return w, task, EvalResult(ERROR, message=f"worker process w{w} died (exit code {code}: a crash in "
                                                  f"native code or a fatal CUDA error)")

    def close(self) -> None:
        """Busy workers (fillers) are killed; idle ones are told to stop."""
        for w, process in enumerate(self.processes):
            if self.tasks[w] is not None or w in self.dead:
                process.kill()
            else:
                try:
                    self.conns[w].send(None)
                except (OSError, BrokenPipeError):
                    process.kill()
        for process, conn in zip(self.processes, self.conns):
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
                process.join()
            conn.close()


def measurement(network: int, worker: int, result: EvalResult, epochs: int, scale: float) -> dict:
    """What one measured evaluation gave: timings when it trained, else its status and message."""
    if not result.ok:
        return {"network": network, "worker": worker, "status": result.status, "message": last_line(result)}
    first, steady = epoch_seconds(result.curve, result.seconds)
    return {"network": network, "worker": worker, "status": "ok", "seconds": result.seconds,
            "images_per_second": result.images_per_second, "first": first, "steady": steady,
            "projected": projected_seconds(first, steady, epochs, scale)}


def last_line(result: EvalResult) -> str:
    """A failure's message in one line: an OOM's message, a traceback's exception."""
    lines = result.message.strip().splitlines()
    return lines[-1][:200] if lines else result.status


def run_phase(k: int, orders: list, networks: list, config: EvaluatorConfig, device: str, threads: int,
              budget: float, epochs: int, thesis_epochs: int, scale: float, on_record=None) -> dict:
    """K workers train networks in their `orders`, starting measurements for `budget` seconds; fillers
    keep every worker busy until the last measurement ends. Returns the measurements and wall seconds."""
    workers = Workers(k, device, threads, config)
    try:
        for w in range(k):
            workers.submit(w, ("warmup", None), WARMUP_ARCH, 1)
        warmups = [workers.next() for _ in range(k)]
        failed = [f"worker {w}: {last_line(r)}" for w, _, r in warmups if not r.ok]
        if failed:
            raise SystemExit("warm-up failed: " + "; ".join(failed))
        started = time.perf_counter()
        pending = [deque(order) for order in orders]
        fillers = [itertools.cycle(order) for order in orders]
        measuring, records = set(), []

        def feed(w):
            if time.perf_counter() - started < budget and pending[w]:
                i = pending[w].popleft()
                workers.submit(w, ("measure", i), networks[i].arch, epochs)
                measuring.add(w)
            elif measuring and orders[w]:   # keep the contention K until the last measurement ends
                workers.submit(w, ("filler", None), networks[next(fillers[w])].arch, 1)

        for w in range(k):
            feed(w)
        while measuring:
            w, (kind, i), result = workers.next()
            if kind == "measure":
                measuring.discard(w)
                records.append(measurement(i, w, result, thesis_epochs, scale))
                if on_record:
                    on_record(records[-1])
            if w not in workers.dead:
                feed(w)
        return {"measurements": records, "wall_seconds": time.perf_counter() - started}
    finally:
        workers.close()


# --- output -----------------------------------------------------------------------------------------

def network_row(network: Network, record: dict, args: argparse.Namespace, train_size: int | None = None) -> str:
    head = (f"{network.index:>3} {network.key:<32} {network.depth:>5} {network.params:>11,} "
            f"{network.macs / 1e6:>8.1f}")
    if record["status"] != "ok":
        return f"{head}   {record['status']}: {record.get('message', '')}"
    # arithmetic of one steady epoch: training (forward + backward) and validation (forward)
    train_size = train_size or args.train_size
    validation_size = max(1, round(args.validation_size * train_size / args.train_size))
    flop_per_mac = FLOP_PER_MAC_TRAINING * train_size + FLOP_PER_MAC_VALIDATION * validation_size
    first, steady = record["first"], record["steady"]
    tflops = network.macs * flop_per_mac / steady / 1e12
    return (f"{head} {record['images_per_second']:>8,.0f} {train_size / steady:>8,.0f} {steady:>8.2f} "
            f"{first - steady:>7.2f} {record['projected']:>8.1f} {tflops:>7.2f}")


def device_description(device: str) -> dict:
    if device.startswith("cuda"):
        props = torch.cuda.get_device_properties(torch.device(device))
        return {"name": props.name, "memory_gib": props.total_memory / 2**30,
                "capability": f"{props.major}.{props.minor}"}
    return {"name": f"CPU ({os.cpu_count()} cores)", "memory_gib": None, "capability": None}


def write_json(path: str | None, data: dict) -> None:
    if path:
        Path(path).write_text(json.dumps(data, indent=1, default=str) + "\n")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--device", default="auto", help="cuda, cpu or auto (cuda when present)")
    add("--space", default=str(ROOT / "configs" / "space.yaml"))
    add("--networks", type=int, default=24, help="networks sampled (default 24)")
    add("--seed", type=int, default=0, help="seed of the sample")
    add("--epochs", type=int, default=2, help="epochs measured per network (>= 2: the first is not steady)")
    add("--train-size", type=int, default=45000, help="training images per epoch, alone (default 45,000)")
    add("--validation-size", type=int, help="validation images (default train size / 9: 5,000 for 45,000)")
    add("--image-size", type=int, default=32, help="height and width of the synthetic images (default 32)")
    add("--workers-list", default="1,2,4,8", help="K: workers at once on the device (default 1,2,4,8)")
    add("--concurrency-train-size", type=int, help="training images per epoch in the K phases (default about "
        "train size / 8, whole batches: 5,632 for 45,000; projections are scaled to the train size)")
    add("--alone-budget-seconds", type=float, default=200.0,
        help="stop starting networks alone after this long (default 200)")
    add("--budget-seconds", type=float, default=20.0,
        help="per K phase: start measurements for this long (default 20)")
    add("--max-mmacs", type=float, help="redraw networks above this many MMACs per image (small runs)")
    add("--min-filters", type=int, default=0, help="redraw networks with fewer filters (small runs on CPU)")
    add("--json", help="write every measured number to this file")
    add("--alone-from", help="take the alone phase from this earlier --json of the same sample")
    add("--alone-rest", action="store_true", help="with --alone-from: train alone the networks it did not reach")
    add("--alone-train-size", type=int, help="training images per epoch alone (default --train-size; "
        "projections are scaled to the train size)")
    args = parser.parse_args(argv)
    args.validation_size = args.validation_size or max(1, round(args.train_size / 9))
    args.concurrency_train_size = args.concurrency_train_size or default_concurrency_size(args.train_size)
    args.alone_train_size = args.alone_train_size or args.train_size
    args.workers_list = [int(k) for k in args.workers_list.split(",") if k.strip()]
    if args.epochs < 2:
        parser.error("--epochs: at least 2 (the steady epoch is measured after the first)")
    if not 2 <= args.concurrency_train_size <= args.train_size:
        parser.error("--concurrency-train-size: between 2 and --train-size")
    return args


def default_concurrency_size(train_size: int, batch: int = 128) -> int:
    """About 1/8 of the images in whole batches: a full-size epoch's last short batch runs eagerly (no graph),
    so a scaled epoch with one would count it eight times."""
    return min(train_size, max(batch, round(train_size / 8 / batch) * batch))


def evaluator_config(args: argparse.Namespace, device: str, training: TrainingConfig,
                     train_size: int) -> EvaluatorConfig:
    """Synthetic CIFAR-shaped data of `train_size` training images (validation in the thesis's proportion)
    and the thesis's schedule, as every worker's Evaluator gets them."""
    validation = max(1, round(args.validation_size * train_size / args.train_size))
    dataset = DatasetConfig(name="synthetic", train_size=train_size, validation_size=validation,
                            shape=[3, args.image_size, args.image_size])
    return EvaluatorConfig(objective="train", device=device, dataset=dataset, training=training)


def alone_phase(args: argparse.Namespace, networks: list, device: str, training: TrainingConfig,
                earlier: dict | None = None) -> dict:
    """Every network alone, one worker; prints a row per network as it ends. With `earlier` (an alone
    phase of the same sample), its measurements are kept and only the networks it did not reach train."""
    shape, size = (3, args.image_size, args.image_size), args.alone_train_size
    scale = args.train_size / size
    print(f"\n== alone: one worker, {size:,} training images of {shape} per epoch"
          + (f" (x{scale:.2f} to project)" if scale != 1 else "")
          + f", {args.epochs} epochs each, new networks for {args.alone_budget_seconds:.0f} s ==")
    print(f"{'#':>3} {'network':<32} {'depth':>5} {'params':>11} {'MMAC/img':>8} {'img/s':>8} "
          f"{'steady':>8} {'s/epoch':>8} {'+1st s':>7} {'s/eval':>8} {'TFLOP/s':>7}")
    kept = [r for r in (earlier or {}).get("measurements", [])]
    for r in kept:
        print(network_row(networks[r["network"]], r, args, r.get("train_size", args.train_size)) + "  (earlier)")
    done = {r["network"] for r in kept}
    config = evaluator_config(args, device, training, size)

    def on_record(r):
        r["train_size"] = size
        print(network_row(networks[r["network"]], r, args, size), flush=True)
    phase = run_phase(1, [[i for i in range(len(networks)) if i not in done]], networks, config, device,
                      worker_threads(device, 1), args.alone_budget_seconds, args.epochs, training.epochs,
                      scale, on_record=on_record)
    phase["measurements"] = kept + phase["measurements"]
    phase["wall_seconds"] += (earlier or {}).get("wall_seconds", 0.0)
    trained = sum(r["status"] == "ok" for r in phase["measurements"])
    left, failed = len(networks) - len(phase["measurements"]), len(phase["measurements"]) - trained
    print(f"({phase['wall_seconds']:.0f} s; {trained} of {len(networks)} networks trained"
          + (f", {left} not reached within the budget (left out of everything below)" if left else "")
          + (f", {failed} failed" if failed else "") + ")")
    print(f"(img/s: the engine's, training steps of all {args.epochs} epochs (the first's autotuning and "
            f"capture too); steady: training images / steady epoch; s/epoch: steady, training + validation; "
            f"+1st s: the first epoch's extra; s/eval = first epoch + {training.epochs - 1} x steady epoch; "
            f"TFLOP/s: 6 x MACs x training images + 2 x MACs x validation images / steady epoch)")
    return phase


def alone_from(path: str, networks: list) -> dict:
    """The alone phase of an earlier run (its --json) over the same sample, e.g. to measure the K phases
    again under CUDA MPS: one worker alone runs the same with or without it."""
    earlier = json.loads(Path(path).read_text())
    if [n["key"] for n in earlier["networks"]] != [n.key for n in networks]:
        raise SystemExit(f"--alone-from {path}: another sample of networks (use the same --networks, --seed, "
                         f"--space and size limits)")
    print(f"\n== alone: from {path} ({len(earlier['alone']['measurements'])} networks) ==")
    return earlier["alone"]


def concurrency_phase(args: argparse.Namespace, k: int, networks: list, alone: dict, device: str,
                      training: TrainingConfig) -> dict:
    """K workers at once at the concurrency train size; `alone`: network -> its alone measurement. A network
    that would not fit (K x its predicted time alone at that size > twice the budget) is skipped."""
    scale = args.train_size / args.concurrency_train_size
    fits = fitting(alone, k, args.epochs, scale, args.budget_seconds)
    phase = {"measurements": [], "wall_seconds": 0.0}
    if fits:
        orders = [[fits[j] for j in rotation(len(fits), k, w)] for w in range(k)]
        config = evaluator_config(args, device, training, args.concurrency_train_size)
        phase = run_phase(k, orders, networks, config, device, worker_threads(device, k), args.budget_seconds,
                          args.epochs, training.epochs, scale)
    good = [(r["network"], r["projected"]) for r in phase["measurements"] if r["status"] == "ok"]
    projected = {i: r["projected"] for i, r in alone.items()}
    failed = [r for r in phase["measurements"] if r["status"] != "ok"]
    return contention(projected, good, set(alone) - set(fits), k) | phase | {"failed": failed}


def concurrency_row(row: dict, alone_rate: float) -> str:
    good = len(row["measurements"]) - len(row["failed"])
    slowdown = f"{row['slowdown']:.2f}" if row["slowdown"] else "-"
    failed = sorted({r["status"] for r in row["failed"]})
    return (f"{row['k']:>3} {good:>8} {row['networks_measured']:>8} {len(row['skipped']):>7} {slowdown:>8} "
            f"{row['seconds_per_evaluation']:>8.1f} {row['evaluations_per_hour']:>8.1f} "
            f"{row['evaluations_per_hour'] / alone_rate:>7.2f}x "
            f"{row['evaluations_per_hour_skipped_like_measured']:>11.1f} {row['wall_seconds']:>7.0f}"
            + (f"  ({len(row['failed'])} failed: {', '.join(failed)})" if failed else ""))


def cost_section(rows: list, budget: int, name: str) -> dict:
    """Prints and returns the projected GPU-hours at every K, the best K's, and the thesis's."""
    best = max(rows, key=lambda r: r["evaluations_per_hour"])
    low, high = (h * THESIS_GPUS for h in THESIS_HOURS_PER_SEARCH)
    print(f"\n== the thesis's searches on one {name} ==")
    for r in rows:
        c = search_cost(r["evaluations_per_hour"], budget)
        label = f"K={r['k']}" + (" (alone, full size)" if r.get("alone") else "")
        print(f"{label:<22} {r['evaluations_per_hour']:8.1f} evaluations/hour: one search ({budget} "
              f"evaluations) {c['one_search_gpu_hours']:6.2f} GPU-hours, {SEARCHES} searches "
              f"{c['all_searches_gpu_hours']:7.2f}")
    cost = search_cost(best["evaluations_per_hour"], budget)
    print(f"best K = {best['k']}: one search {cost['one_search_gpu_hours']:.2f} GPU-hours, the six "
          f"{cost['all_searches_gpu_hours']:.1f} GPU-hours (training only: the search driver and BO's model "
          f"fitting are not included)")
    one = cost["one_search_gpu_hours"]
    hours = "-".join(map(str, THESIS_HOURS_PER_SEARCH))
    print(f"thesis: ~{hours} h per search on two GTX 1080 Ti = ~{low}-{high} GPU-hours per search, "
          f"~{SEARCHES * low}-{SEARCHES * high} for six: {low / one:.0f}-{high / one:.0f}x the GPU-hours "
          f"here")
    by_k = [dict(search_cost(r["evaluations_per_hour"], budget), k=r["k"], alone=bool(r.get("alone")),
                 evaluations_per_hour=r["evaluations_per_hour"]) for r in rows]
    return {"by_k": by_k, "best_k": best["k"], "best": cost, "thesis_gpu_hours_per_search": [low, high]}


def worker_threads(device: str, k: int) -> int:
    """torch threads per worker: one on CPU; on a GPU what a search with K workers gives each."""
    return 1 if device == "cpu" else threads_per_worker(k)


def main(argv=None) -> None:
    args = parse_args(argv)
    device = str(resolve_device(args.device))
    training, budget = thesis_protocol()
    space = load_space(args.space)
    networks = sample_networks(space, args.networks, args.seed, (3, args.image_size, args.image_size),
                               args.max_mmacs, args.min_filters)
    gpu = device_description(device)
    stats = mac_statistics([n.cifar_macs / 1e9 for n in networks])
    out = {"device": gpu, "torch": torch.__version__, "settings": vars(args) | {"device": device},
           "thesis": {"epochs": training.epochs, "budget": budget, "searches": SEARCHES,
                      "hours_per_search_on_two_1080ti": THESIS_HOURS_PER_SEARCH},
           "gmacs_per_cifar_image": {"sample": stats, "paper": PAPER_GMACS},
           "networks": [asdict(n) for n in networks]}
    print(gpu["name"] + (f", {gpu['memory_gib']:.0f} GiB, compute capability {gpu['capability']}"
                         if gpu["memory_gib"] else "") + f"; torch {torch.__version__}")
    print(f"{len(networks)} networks of {args.space}, uniform configurations, seed {args.seed}"
          + (f"; redrawn above {args.max_mmacs} MMACs or below {args.min_filters} filters: NOT the thesis's "
             f"distribution" if args.max_mmacs or args.min_filters else ""))
    print("GMAC per 32x32 image, this sample: " + ", ".join(f"{k} {v:.3f}" for k, v in stats.items())
          + "; on paper (uniform thesis space): " + ", ".join(f"{k} {v}" for k, v in PAPER_GMACS.items()))
    print(f"schedule: the thesis's search fidelity ({training.epochs} epochs, batch {training.batch_size}, "
          f"lr {training.lr}, precision {training.precision}, CUDA graph {training.cuda_graph}), "
          f"{args.epochs} epochs measured")

    earlier = alone_from(args.alone_from, networks) if args.alone_from else None
    if earlier is None or args.alone_rest:
        out["alone"] = alone_phase(args, networks, device, training, earlier)
    else:
        out["alone"] = earlier
    write_json(args.json, out)
    alone = {r["network"]: r for r in out["alone"]["measurements"] if r["status"] == "ok"}
    if not alone:
        raise SystemExit("no network trained alone: nothing to project")
    seconds = [r["projected"] for r in alone.values()]
    alone_rate = evaluations_per_hour(1, statistics.fmean(seconds))
    print(f"alone: mean {statistics.fmean(seconds):.1f} s per evaluation (median "
          f"{statistics.median(seconds):.1f}): {alone_rate:.1f} evaluations/hour")

    scale = args.train_size / args.concurrency_train_size
    print(f"\n== K workers at once on {device}: {args.concurrency_train_size:,} images per epoch "
          f"(x{scale:.2f} to project), new measurements for {args.budget_seconds:.0f} s per K ==")
    print(f"{'K':>3} {'measured':>8} {'networks':>8} {'skipped':>7} {'slowdown':>8} {'s/eval':>8} "
          f"{'evals/h':>8} {'vs alone':>8} {'(if skipped':>11} {'wall s':>7}")
    out["concurrency"] = []
    for k in args.workers_list:
        out["concurrency"].append(concurrency_phase(args, k, networks, alone, device, training))
        print(concurrency_row(out["concurrency"][-1], alone_rate), flush=True)
        write_json(args.json, out)
    print("(measured: measurements that trained; networks: distinct ones; skipped: K x their time alone "
          "would exceed twice the budget, counted with slowdown K; slowdown: time under K / alone, "
          "time-weighted (at K=1 it checks the scaled measurement: 1.00 ideally); s/eval: mean over all "
          "networks; if skipped: evals/h were the skipped networks to scale like the measured)")

    rows = [{"k": 1, "evaluations_per_hour": alone_rate, "alone": True}] + out["concurrency"]
    out["projection"] = cost_section(rows, budget, gpu["name"])
    write_json(args.json, out)


if __name__ == "__main__":
    main()
