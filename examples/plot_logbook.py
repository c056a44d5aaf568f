"""Plot statistics of a search from its saved DEAP Logbook (README, "Plot a logbook").

    python examples/plot_logbook.py RUN_DIR OUT.png

RUN_DIR is one run (runs/quick/regularized_evolution), or a search whose seeds ./run_all.sh wrote as
seed-k/ runs (runs/bench/regularized_evolution): then one best-so-far line per seed.
"""
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import era_deap  # noqa: E402

if len(sys.argv) != 3:
    sys.exit("usage: python examples/plot_logbook.py RUN_DIR OUT.png  (RUN_DIR: a run, or a search's seed-k/ runs)")
run_dir, out = sys.argv[1:]
runs = era_deap.load_runs(run_dir)
if not runs:
    sys.exit(f"plot_logbook.py: no run (evaluations.csv) in {run_dir} or up to three levels below")
for run in runs:
    index, best, recent = run.logbook.select("index", "best", "mean_last50")
    if len(runs) == 1:
        plt.plot(index, best, label="best so far")
        plt.plot(index, recent, label="mean of the last 50")
    else:
        plt.plot(index, best, label=f"best so far, {run.path.relative_to(run_dir)}")
plt.xlabel("models evaluated")
plt.ylabel("validation error (%)")
plt.legend(fontsize="small")
plt.savefig(out)
print(f"wrote {out} ({len(runs)} run{'s' if len(runs) > 1 else ''})")
