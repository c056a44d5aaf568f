"""Failures that cluster in one part of the space. A search whose failures share a gene value has, in
effect, searched a smaller space than its rivals (the failing networks got the worst fitness, their
neighbourhood is avoided), so a comparison with it is biased. One rule, said by `era search`'s closing
line and by `era report` (docs/report.md, *Failed evaluations*):

A gene value is a **failure cluster** when at least `MIN_EVALUATIONS` (5) evaluations with that value were
made, at least `MIN_SHARE` (50 %) of them failed, and they failed more often than the run's other evaluations
beyond chance: a one-sided Fisher exact test (value against the rest), its p times the number of gene values
the run holds (Bonferroni: a run holds dozens, and one of them is unlucky by chance) below `ALPHA` (0.01).
Counted: the evaluations that cost budget (cache hits repeat a network already counted); failed: every
status but ok (oom, diverged, error, invalid). So a flaky objective's failures, spread over the whole
space, are not read as a cluster where a few happen to share a value. A value whose failures all lie in a
stronger cluster is not named again (group size 2 where all 2-filter networks failed).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..space.genome import GENES

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from .rundir import Evaluation

MIN_EVALUATIONS = 5
MIN_SHARE = 0.5
ALPHA = 0.01


@dataclass(frozen=True)
class FailureCluster:
    gene: str
    value: object
    failed: int         # evaluations with this value that failed
    evaluated: int      # evaluations with this value
    rest_failed: int    # the same for every other evaluation
    rest_evaluated: int
    p: float            # the Fisher test's, Bonferroni-adjusted

    def text(self) -> str:
        return (f"{self.gene} = {self.value} ({self.failed} of {self.evaluated} failed; "
                f"{self.rest_failed} of {self.rest_evaluated} elsewhere)")


def failure_clusters(evaluations: Iterable[Evaluation]) -> list[FailureCluster]:
    """The gene values whose evaluations failed far more than the rest (the rule above), in GENES order
    then by value. `evaluations`: anything with genes (GENES order), ok and cached, such as the rows of
    evaluations.csv (rundir.Evaluation), pooled over the seeds of one search or not."""
    counted = [e for e in evaluations if not e.cached]
    total, total_failed = len(counted), sum(not e.ok for e in counted)
    tallies = []
    for position, gene in enumerate(GENES):
        tally: dict = {}
        for e in counted:
            n, failed = tally.get(e.genes[position], (0, 0))
            tally[e.genes[position]] = (n + 1, failed + (not e.ok))
        tallies += [(gene, value, n, failed) for value, (n, failed) in sorted(tally.items())]
    found = []
    for gene, value, n, failed in tallies:
        rest, rest_failed = total - n, total_failed - failed
        if n >= MIN_EVALUATIONS and failed >= MIN_SHARE * n and rest:
            from scipy.stats import fisher_exact  # only for a candidate: a search rarely needs scipy
            p = fisher_exact([[failed, n - failed], [rest_failed, rest - rest_failed]], alternative="greater")[1]
            if p * len(tallies) < ALPHA:
                found.append(FailureCluster(gene, value, failed, n, rest_failed, rest, min(1.0, p * len(tallies))))
    # A value whose failures all lie in a stronger cluster says nothing more (group size 2 where every
    # 2-filter network failed: group sizes above the filters are stored clamped).
    failures_at = {(c.gene, c.value): {id(e) for e in counted if not e.ok and e.genes[GENES.index(c.gene)] == c.value}
                   for c in found}
    kept = []
    for c in sorted(found, key=lambda c: (c.p, -c.failed)):
        if not any(failures_at[(c.gene, c.value)] <= failures_at[(k.gene, k.value)] for k in kept):
            kept.append(c)
    return [c for c in found if c in kept]


def cluster_warning(clusters: Sequence[FailureCluster]) -> str:
    """One sentence naming the clusters, or "" when there are none."""
    if not clusters:
        return ""
    return ("failures cluster at " + "; ".join(c.text() for c in clusters) +
            ": that part of the space was in effect not searched, so comparisons with this search are biased")
