#!/usr/bin/env bash
# One short GPU check for a session lent a CUDA machine (the device tool's `run`), about 5-7 minutes:
# the GPU-marked tests (training, a real CUDA out-of-memory, a Dask GPU worker), the evaluator
# benchmark on CUDA (engine vs the standard DataLoader loop), and a small two-worker search on the
# GPU. Everything it prints lands in $OUT (or ./gpu-check) too.
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
# then: run(command="bash benchmarks/gpu_check.sh", carry=[".whl"], timeout_s=560)
set -u
out="$(realpath -m "${OUT:-gpu-check}")"
mkdir -p "$out"
exec > >(tee "$out/gpu-check.txt") 2>&1
python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site PYTHONUNBUFFERED=1
repo=$PWD
cd /tmp   # so that `python -m` imports the installed era_deap, not the folder (which lacks era_deap.operators)
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
python3 -c "import torch, deap, distributed, era_deap.operators; print('torch', torch.__version__, 'deap', deap.__version__, 'distributed', distributed.__version__)"
started=$SECONDS

echo "== gpu-marked tests"
timeout 180 python3 -m pytest -q -p no:cacheprovider -m gpu "$repo"/tests/test_train.py "$repo"/tests/test_evaluate.py \
    "$repo"/tests/test_dask.py
echo "(tests took $((SECONDS - started)) s)"

echo "== evaluator benchmark on CUDA"
timeout 240 python3 "$repo"/benchmarks/bench_evaluator.py --device cuda --train-size 45000 --repeats 2
echo "(at $((SECONDS - started)) s)"

echo "== a small search: synthetic CIFAR-shaped data, 20 epochs, two workers on one GPU"
cat > /tmp/gpu-search.yaml <<YAML
name: gpu_check
budget: 8
strategy: {kind: regularized_evolution, population_size: 4}
space: $repo/configs/quick/space.yaml
evaluator: {workers: 2, device: cuda, dataset: {name: synthetic, train_size: 10000}}
YAML
timeout 120 python3 -m era_deap.cli search /tmp/gpu-search.yaml --out /tmp/gpu-run --no-progress
cp /tmp/gpu-run/evaluations.csv "$out/" 2>/dev/null
echo "done at $((SECONDS - started)) s; files in $out"
