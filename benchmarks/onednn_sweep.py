"""Which CPU convolutions does this machine's torch get wrong? A sweep of plain `F.conv2d` shapes.

For every kernel (1, 3), stride (1, 2), input and output channels, groups and image size below, one
float32 forward and backward (oneDNN, as torch runs it) against float64 with oneDNN off, five times;
a shape is `wrong` when the output, input gradient or weight gradient is off by more than 1e-3
(relative to the largest value), `crashed` when the process died (heap corruption aborts it). Each
(threads, memory format) runs in its own worker process, restarted after a crash at the next shape.

    python benchmarks/onednn_sweep.py                   # all: 1 and 2 threads, channels-last and NCHW
    python benchmarks/onednn_sweep.py --threads 1 --format channels_last --kernels 1 --strides 2

On an AMD EPYC (AVX2, no AVX-512) with torch 2.14.1 (oneDNN 3.12) every failure was a 1x1 convolution
with stride 2, one group and fewer than 8 input channels, in channels-last memory: with one thread the
process crashed, with two the weight gradient was wrong (by up to 150%) or it crashed. era-deap's
model computes those convolutions as a subsample and a 1x1 convolution with stride 1
(`era_deap.training.model.SubsampledPointwise`); docs/evaluator.md, "CPU convolutions", has the story.
"""
from __future__ import annotations

import argparse
import itertools
import os
import subprocess
import sys
import time

SIZES = dict(kernels=[1, 3], strides=[1, 2], inputs=[1, 2, 3, 4, 6, 8, 16], outputs=[1, 2, 4, 8, 16],
             groups=[1, 2, 4], images=[1, 2, 4, 8, 16, 32])
TOLERANCE = 1e-3


def shapes(kernels, strides, inputs, outputs, groups, images) -> list[tuple]:
    return [(k, s, ci, co, g, hw) for k, s, ci, co, g, hw in
            itertools.product(kernels, strides, inputs, outputs, groups, images)
            if ci % g == 0 and co % g == 0 and not (s == 2 and hw == 1)]


def worker(threads: int, channels_last: bool, todo: list[tuple], start: int) -> None:
    """Check shapes todo[start:], one line each: `start i` before, `done i ok|wrong errors` after."""
    import warnings

    import torch
    import torch.nn.functional as F
    warnings.filterwarnings("ignore")    # oneDNN's TF32 note when its flags are toggled
    torch.set_num_threads(threads)
    memory = torch.channels_last if channels_last else torch.contiguous_format
    for i in range(start, len(todo)):
        k, s, ci, co, g, hw = todo[i]
        print("start", i, flush=True)
        torch.manual_seed(0)
        weight = torch.randn(co, ci // g, k, k).to(memory_format=memory).requires_grad_()
        worst = [0.0, 0.0, 0.0]
        for _ in range(5):
            x = torch.randn(32, ci, hw, hw).to(memory_format=memory).requires_grad_()
            y = F.conv2d(x, weight, stride=s, padding=k // 2, groups=g)
            grad = torch.randn_like(y)
            got = (y, *torch.autograd.grad(y, (x, weight), grad))
            x64, w64 = x.detach().double().requires_grad_(), weight.detach().double().requires_grad_()
            with torch.backends.mkldnn.flags(enabled=False):
                y64 = F.conv2d(x64, w64, stride=s, padding=k // 2, groups=g)
                want = (y64, *torch.autograd.grad(y64, (x64, w64), grad.double()))
            worst = [max(e, ((a.double() - b).abs().max() / b.abs().max().clamp_min(1e-12)).item())
                     for e, a, b in zip(worst, got, want)]
        verdict = "wrong" if max(worst) > TOLERANCE else "ok"
        print("done", i, verdict, *(f"{e:.1e}" for e in worst), flush=True)


def sweep(threads: int, channels_last: bool, todo: list[tuple], timeout: float) -> dict:
    """{shape index: "ok" | "wrong ..." | "crashed (rc)"}, restarting the worker after each death."""
    outcome, start = {}, 0
    while start < len(todo):
        command = [sys.executable, __file__, "--worker", str(threads), str(int(channels_last)), str(start),
                   *sys.argv[1:]]
        env = dict(os.environ, OMP_NUM_THREADS=str(threads), MALLOC_CHECK_="3")
        try:
            run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
            lines, code = run.stdout.splitlines(), run.returncode
        except subprocess.TimeoutExpired as stopped:
            lines, code = (stopped.stdout or b"").decode().splitlines(), "timeout"
        last = start - 1
        for line in lines:
            word, index, *rest = line.split()
            last = int(index)
            if word == "done":
                outcome[last] = " ".join(rest)
        if code == 0:
            break
        if last in outcome:    # died between shapes (a timeout of the whole worker): go on after it
            start = last + 1
            continue
        outcome[last] = f"crashed ({code})"
        start = last + 1
    return outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--format", nargs="+", default=["channels_last", "nchw"],
                        choices=["channels_last", "nchw"])
    for name, values in SIZES.items():
        parser.add_argument(f"--{name}", type=int, nargs="+", default=values)
    parser.add_argument("--timeout", type=float, default=600, help="seconds per worker process")
    parser.add_argument("--worker", nargs=3, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    todo = shapes(args.kernels, args.strides, args.inputs, args.outputs, args.groups, args.images)
    if args.worker:
        threads, channels_last, start = args.worker
        return worker(threads, bool(channels_last), todo, start)
    import torch
    print(f"torch {torch.__version__}, {torch.backends.cpu.get_cpu_capability()}, {len(todo)} shapes")
    for threads, memory in itertools.product(args.threads, args.format):
        started = time.perf_counter()
        outcome = sweep(threads, memory == "channels_last", todo, args.timeout)
        bad = {i: v for i, v in outcome.items() if v != "ok" and not v.startswith("ok ")}
        print(f"\n{threads} thread(s), {memory}: {len(bad)} of {len(todo)} shapes wrong or crashed "
              f"({time.perf_counter() - started:.0f} s)")
        for i, verdict in sorted(bad.items()):
            k, s, ci, co, g, hw = todo[i]
            print(f"  kernel {k} stride {s} in {ci:>2} out {co:>2} groups {g} image {hw:>2}x{hw:<2}  {verdict}")


if __name__ == "__main__":
    main()
