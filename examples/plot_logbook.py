"""Plot statistics of a search from its saved DEAP Logbook (README, "Plot a logbook").

    python examples/plot_logbook.py runs/quick/regularized_evolution curve.png
"""
import pickle
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

run_dir, out = sys.argv[1], sys.argv[2]
with open(f"{run_dir}/logbook.pkl", "rb") as f:
    logbook = pickle.load(f)
index, best, recent = logbook.select("index", "best", "mean_last50")
plt.plot(index, best, label="best so far")
plt.plot(index, recent, label="mean of the last 50")
plt.xlabel("models evaluated")
plt.ylabel("validation error (%)")
plt.legend()
plt.savefig(out)
print(f"wrote {out}")
