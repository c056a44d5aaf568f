#!/usr/bin/env bash
# The thesis space on one GPU, one call for a session lent a CUDA machine (the device tool's `run`),
# about 7-8 minutes on an H200: benchmarks/bench_thesis_gpu.py (24 uniform networks of
# configs/space.yaml alone at 45,000 images x 2 epochs for up to 150 s, then K = 1, 2, 4, 8 workers
# at once for 15 s each, the projected GPU-hours of the thesis's searches, then the K phases again under
# CUDA MPS where the machine has it). What it prints lands in $OUT/thesis-gpu.txt (or ./gpu-thesis), the
# numbers in $OUT/thesis-gpu.json and thesis-gpu-mps.json (written after each phase, so a run cut short
# still leaves what it measured).
#
# The GPU machine has torch, gpytorch, pytest, hypothesis, scipy, tqdm, pyyaml and numpy, but not
# deap or dask, and no network. Before the run, on the CPU machine, in the repository root, fetch
# Python 3.12 wheels of deap and dask[distributed] (numpy and pyyaml are there already):
#   mkdir -p .git/info && echo /.whl/ >> .git/info/exclude
#   python3 -m pip download --only-binary=:all: --python-version 3.12 --implementation cp \
#       --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform manylinux_2_28_x86_64 \
#       --platform any -d .whl deap==1.4.4 dask==2026.8.0 distributed==2026.8.0
#   rm .whl/numpy-* .whl/pyyaml-*
# (deap 1.4.4 imports moocore, which needs cffi, pycparser and platformdirs: check that these came too)
# and this package as a wheel (its operators/ and baselines/ folders install as era_deap.*):
#   rm -f .whl/era_deap-*; python3 -m pip wheel --no-deps --no-build-isolation -w .whl .
# (this benchmark needs only deap (with moocore) and era_deap; the same .whl as gpu_check.sh's does)
# then: run(command="bash benchmarks/gpu_thesis.sh", carry=[".whl"], timeout_s=600)
set -u
out="$(realpath -m "${OUT:-gpu-thesis}")"
mkdir -p "$out"
exec > >(tee "$out/thesis-gpu.txt") 2>&1
python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site PYTHONUNBUFFERED=1
repo=$PWD
cd /tmp   # so that the installed era_deap is imported, not the folder (which lacks era_deap.operators)
nvidia-smi --query-gpu=name,memory.total,driver_version,compute_mode --format=csv
python3 -c "import torch, deap, era_deap.operators; print('torch', torch.__version__, 'deap', deap.__version__)"
started=$SECONDS

# Bounded: the benchmark's own budgets (alone 150 s, 15 s per K), and hard stops inside run's 600 s.
timeout 400 python3 "$repo"/benchmarks/bench_thesis_gpu.py --device cuda --json "$out/thesis-gpu.json" \
    --alone-budget-seconds 150 --budget-seconds 15
echo "exit code $?; done at $((SECONDS - started)) s"

# The K phases again under CUDA MPS, where the machine has it: without MPS the K processes time-share the
# GPU; with it their kernels can run side by side. The alone phase is the same either way: reused.
if command -v nvidia-cuda-mps-control >/dev/null && [ -s "$out/thesis-gpu.json" ]; then
    export CUDA_MPS_PIPE_DIRECTORY=/tmp/mps-pipe CUDA_MPS_LOG_DIRECTORY=/tmp/mps-log
    mkdir -p "$CUDA_MPS_PIPE_DIRECTORY" "$CUDA_MPS_LOG_DIRECTORY"
    if nvidia-cuda-mps-control -d; then
        echo "== CUDA MPS daemon started: the K phases again"
        timeout $((560 - (SECONDS - started))) python3 "$repo"/benchmarks/bench_thesis_gpu.py --device cuda \
            --json "$out/thesis-gpu-mps.json" --alone-from "$out/thesis-gpu.json" --budget-seconds 15 \
            --workers-list 2,4,8
        echo "exit code $?"
        echo quit | nvidia-cuda-mps-control
    else
        echo "(CUDA MPS could not start: no second measurement)"
    fi
else
    echo "(no nvidia-cuda-mps-control here: K phases measured without MPS only)"
fi
echo "done at $((SECONDS - started)) s; files in $out"
