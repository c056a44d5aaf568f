"""`era compare A.yaml B.yaml [...] --seeds 0-19 [--out DIR] [--jobs J]`: paired seeds, one verdict."""
from __future__ import annotations

import sys
from pathlib import Path


def run_compare(args) -> int:
    from ..errors import ConfigError
    from ..report.compare import measure, parse_seeds, run_all, variant_names, verdict
    from ..settings import load_search_config, replace
    from .search import add_import_paths
    for path in args.configs:
        add_import_paths(path)
    if len(args.configs) < 2:
        raise ConfigError(f"era compare: expected two or more configs (a baseline, then the variants), "
                          f"got {len(args.configs)}: {args.configs[0]}")
    configs = [load_search_config(path) for path in args.configs]
    if args.budget is not None:
        configs = [replace(c, budget=args.budget) for c in configs]
    names = variant_names(configs)
    out = Path(args.out) if args.out else Path("runs") / "compare" / "-vs-".join(names)
    seeds = parse_seeds(args.seeds)
    from ..search.run import preflight
    for config in configs:
        preflight(config)          # every variant's mistakes before any of them runs
    dirs = run_all(configs, names, seeds, out, jobs=args.jobs, fresh=args.fresh,
                   log=lambda line: print(line, file=sys.stderr, flush=True))
    unit = "epochs" if args.epochs else "evaluations"
    measured, n = measure(dirs, unit)
    text = f"# era compare: {' vs '.join(names)}\n\n" + verdict(measured, n, unit)
    (out / "compare.md").write_text(text)
    print(text)
    print(f"(written to {out / 'compare.md'}; `era report {out}` draws the runs)")
    return 0
