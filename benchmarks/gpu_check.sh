#!/usr/bin/env bash
# One short GPU check for a session lent a CUDA machine (the device tool's `run`), about 5-8 minutes:
# the GPU-marked tests, the evaluator benchmark on CUDA (engine vs the standard DataLoader loop), and
# a small two-worker search on the GPU. Figures land in $OUT (or ./gpu-check).
#
# The GPU machine has torch, gpytorch, pytest, hypothesis, scipy, tqdm, but not deap and no network.
# Before the run, on the CPU machine, in the repository root:
#   echo /.whl/ >> .git/info/exclude
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#       --platform manylinux_2_17_x86_64 --platform any -d .whl deap==1.4.4
# then: run(command="bash benchmarks/gpu_check.sh", carry=[".whl"], timeout_s=600)
set -u
out="${OUT:-gpu-check}"
mkdir -p "$out"
python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site PYTHONUNBUFFERED=1
python3 -m pip install -q --no-deps --no-build-isolation --no-index -e . || exit 1
nvidia-smi --query-gpu=name,memory.total --format=csv | tee "$out/gpu.txt"

echo "== gpu-marked tests"
timeout 120 python3 -m pytest -q -m gpu tests/test_train.py tests/test_evaluate.py 2>&1 | tee "$out/pytest-gpu.txt"

echo "== evaluator benchmark on CUDA"
timeout 300 python3 benchmarks/bench_evaluator.py --device cuda --train-size 45000 --repeats 2 2>&1 \
    | tee "$out/bench-evaluator-cuda.txt"

echo "== a small search: synthetic CIFAR-shaped data, 20 epochs, two workers on one GPU"
cat > /tmp/gpu-search.yaml <<YAML
name: gpu_check
budget: 8
strategy: {kind: regularized_evolution, population_size: 4}
space: $PWD/configs/quick/space.yaml
evaluator: {workers: 2, device: cuda, dataset: {name: synthetic, train_size: 10000}}
YAML
timeout 150 python3 -m era_deap.cli search /tmp/gpu-search.yaml --out /tmp/gpu-run --no-progress 2>&1 \
    | tee "$out/search.txt"
cp /tmp/gpu-run/evaluations.csv "$out/" 2>/dev/null
echo "done; files in $out"
