"""The files of a run directory: names and columns shared by the driver (writer) and the report (reader).

    <run>/config.yaml        the resolved search config, plus the command that started the run
    <run>/journal.jsonl      append-only, fsynced after every record: asks and results in order
    <run>/evaluations.csv    one row per finished evaluation, in the order results arrived
    <run>/logbook.json|.pkl  DEAP Logbook, one record per finished evaluation (LOGBOOK_FIELDS + extras)
    <run>/hall_of_fame.json|.pkl   DEAP HallOfFame of the best successful genomes
    <run>/summary.json       best genome and error, counts, config hash, package versions, finished
    <run>/final/final.json   (optional) full training of the best genome: `era train --out <run>/final`

A final-training directory outside a search (a baseline such as ResNet-110) holds only final.json.
"""
from __future__ import annotations

CONFIG = "config.yaml"
JOURNAL = "journal.jsonl"
EVALUATIONS = "evaluations.csv"
LOGBOOK_JSON = "logbook.json"
LOGBOOK_PICKLE = "logbook.pkl"
HALL_OF_FAME_JSON = "hall_of_fame.json"
HALL_OF_FAME_PICKLE = "hall_of_fame.pkl"
SUMMARY = "summary.json"
FINAL_DIR = "final"
FINAL = "final.json"
LOCK = "lock"

# index: 1-based order in which results arrived (the x axis "models evaluated");
# elapsed: seconds since the search started when the result arrived (summed over resumed sessions);
# error: validation error in percent, empty unless status is ok; cached: 1 when the network had been
# evaluated before in this run (costs no budget); seconds: wall time of this evaluation.
EVALUATION_COLUMNS = ("index", "key", "block", "s1", "s2", "s3", "s4", "filters", "filter_update",
                      "group_size", "error", "status", "cached", "params", "depth", "seconds", "elapsed",
                      "worker", "seed", "message", "epochs")
# Columns a reader must not require: runs written before they existed lack them. epochs: empty for a
# full training, r for a multi-fidelity evaluation of the schedule's first r epochs.
OPTIONAL_COLUMNS = ("epochs",)

# Logbook record per finished evaluation. best/mean_all/mean_last50 are over successful evaluations
# so far (thesis figures 5a, 5b, 5c); None until the first success.
LOGBOOK_FIELDS = ("index", "elapsed", "error", "status", "cached", "best", "mean_all", "mean_last50")
RECENT_WINDOW = 50
