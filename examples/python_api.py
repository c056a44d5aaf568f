"""The Python API in one script: run a search, read the run back, plot its DEAP logbook, compare two
configs with paired seeds. On the shipped digits-quick table (configs/bench/), so it takes seconds.

    python examples/python_api.py [OUT]          # default runs/python_api; rerunning reuses every run
"""
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import era_deap  # noqa: E402

bench = Path(__file__).resolve().parents[1] / "configs" / "bench"
out = Path(sys.argv[1] if len(sys.argv) > 1 else "runs/python_api")

# 1. A search, with overrides validated as the YAML is; resume=True continues (or reuses) the run in out.
config = era_deap.load_config(bench / "regularized_evolution.yaml", budget=60, seed=1)
run = era_deap.run_search(config, out / "regularized_evolution", resume=True)
print(f"{run.summary['trained']} trained, {run.summary['cached']} cached; best {run.best.key} "
      f"{run.best.error:.2f}% (evaluation {run.best.index} of {len(run.evaluations)})")

# 2. Its logbook is a DEAP Logbook: one record per evaluation.
index, best, recent = run.logbook.select("index", "best", "mean_last50")
plt.plot(index, best, label="best so far")
plt.plot(index, recent, label="mean of the last 50")
plt.xlabel("models evaluated")
plt.ylabel("validation error (%)")
plt.legend()
plt.savefig(out / "logbook.png")
print(f"wrote {out / 'logbook.png'}")

# 3. Is regularized evolution better than random search here? Paired seeds, one verdict (as `era compare`).
verdict = era_deap.compare(bench / "random_search.yaml", bench / "regularized_evolution.yaml", seeds=range(4),
                           out=out / "compare", budget=60, log=None)
for c in verdict.comparisons:
    print(f"{c.metric}: {c.variant} {c.median_variant:.2f} vs {c.baseline} {c.median_baseline:.2f}, "
          f"p (Holm) {c.p_holm:.2g}: {c.verdict}")
print(f"the verdict as era compare prints it: {verdict.path}")
