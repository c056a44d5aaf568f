"""The `era` command line. Parsers live here; each command's work lives in the function named by its
`run=` default, `handler(args) -> exit code`, imported only when that command runs (so `era space` does
not import torch). `args.parser` is the subcommand's parser, for usage errors (exit code 2)."""
from __future__ import annotations

import argparse
import json
import os
import pkgutil
import sys

from ..errors import UserError
from ..space.genome import GENES

EXIT_USAGE = 2


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line naming the flag and what it allows, exit code 2."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _int_list(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected four comma-separated integers such as 0,18,18,18, got {text!r}")
    if len(values) != 4:
        raise argparse.ArgumentTypeError(f"expected four comma-separated integers such as 0,18,18,18, got {text!r}")
    return values


def _shape(text: str) -> tuple[int, int, int]:
    try:
        c, h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected CxHxW such as 3x32x32, got {text!r}")
    if min(c, h, w) < 1:
        raise argparse.ArgumentTypeError(f"expected positive sizes such as 3x32x32, got {text!r}")
    return c, h, w


def _at_least(minimum: int, what: str):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"expected a {what} integer, got {text!r}")
        return value
    return parse


_positive = _at_least(1, "positive")
_count = _at_least(0, "non-negative")


def _add_genome_flags(p: argparse.ArgumentParser, required: bool = True) -> None:
    g = p.add_argument_group("architecture (genes, thesis §3.4)")
    g.add_argument("--block", required=required, help="basic or bottleneck")
    g.add_argument("--sections", required=required, type=_int_list, metavar="A,B,C,D",
                   help="blocks in each of the four sections, e.g. 0,18,18,18")
    g.add_argument("--filters", required=required, type=int, help="width of the first section")
    g.add_argument("--filter-update", required=required, type=int, help="width factor between sections (1 or 2)")
    g.add_argument("--group-size", required=required, type=int, help="filters per group of the 3x3 convolutions")
    g.add_argument("--space", help="space file the genome must belong to (default: configs/space.yaml's space)")


def genome_from_args(parser: argparse.ArgumentParser, args):
    """The canonical DEAP individual the genome flags describe, or a one-line usage error (exit 2)."""
    from ..space.genome import individual
    from ..space.space import load_space
    space = load_space(args.space)
    genes = [args.block, *args.sections, args.filters, args.filter_update, args.group_size]
    for name, value in zip(GENES, genes):
        gene = space[name]
        if value not in gene.values:
            flag = "--sections" if name.startswith("s") and name[1:].isdigit() else "--" + name.replace("_", "-")
            what = f" (section {name[1]})" if flag == "--sections" else ""
            allowed = ", ".join(map(str, gene.values)) if len(gene.values) <= 8 else \
                f"{gene.values[0]}..{gene.values[-1]}"
            parser.error(f"argument {flag}{what}: expected one of {allowed}, got {value!r}")
    return space, space.canonical(individual(genes))


def build_parser() -> Parser:
    parser = Parser(prog="era", description="Neural architecture search over residual networks (ERA, DEAP).")
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True

    p = sub.add_parser("space", help="count the configurations and unique networks of a space")
    p.add_argument("space_file", nargs="?", metavar="SPACE_YAML", help="default: the built-in thesis space")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run="era_deap.cli.main:run_space", parser=p)

    p = sub.add_parser("arch", help="depth, parameters and multiply-adds of one architecture")
    _add_genome_flags(p)
    p.add_argument("--input", type=_shape, default=(3, 32, 32), metavar="CxHxW", help="default 3x32x32")
    p.add_argument("--classes", type=_positive, default=10)
    p.add_argument("--json", action="store_true")
    p.set_defaults(run="era_deap.cli.main:run_arch", parser=p)

    p = sub.add_parser("train", help="train one architecture with the full schedule")
    _add_genome_flags(p)
    p.add_argument("--config", help="a search config whose evaluator settings to use")
    p.add_argument("--dataset", choices=["cifar10", "digits", "synthetic"])
    p.add_argument("--data-dir")
    p.add_argument("--train-size", type=_positive)
    p.add_argument("--epochs", type=_positive)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", help="auto, cpu, cuda or cuda:N")
    p.add_argument("--out", help="directory for the result and learning curve")
    p.add_argument("--name", help="name recorded in final.json (default: the genome key)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--precision", choices=["auto", "bf16", "fp32"],
                   help="auto: bf16 autocast on CUDA, fp32 on CPU (default: the config's)")
    p.set_defaults(run="era_deap.cli.train:run_train", parser=p)

    p = sub.add_parser("search", help="run (or resume) one architecture search")
    p.add_argument("config", metavar="CONFIG", help="a search config (YAML), e.g. configs/quick/evolution.yaml")
    p.add_argument("--out", help="run directory (default runs/<name>)")
    p.add_argument("--seed", type=int, help="the run's seed (data split, strategy, training seeds); "
                                           "overrides the config's")
    p.add_argument("--budget", type=_positive, help="unique networks to evaluate; overrides the config's. On "
                                                    "--resume it may only grow; left out, the run keeps its own")
    p.add_argument("--workers", type=_count, help="evaluations in parallel (0: in this process)")
    p.add_argument("--scheduler", metavar="ADDR", help="Dask scheduler address, e.g. tcp://host:8786")
    start = p.add_mutually_exclusive_group()
    start.add_argument("--resume", action="store_true", help="continue the run in --out (start it if there is none)")
    start.add_argument("--fresh", action="store_true",
                       help="move a run already in --out aside (to OUT.old-1, OUT.old-2, ...) and start anew")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run="era_deap.cli.search:run_search", parser=p)

    p = sub.add_parser("bench", help="the tabular benchmark: build a table, describe one")
    bench = p.add_subparsers(dest="bench_command", metavar="BENCH_COMMAND", parser_class=Parser)
    bench.required = True
    b = bench.add_parser("build", help="train every network of a space with several seeds into a table")
    b.add_argument("config", metavar="CONFIG", help="a build config (configs/bench/*.yaml)")
    b.add_argument("--out", help="build directory (default runs/bench/<name>); a build there is continued")
    b.add_argument("--workers", type=_count, help="networks in training at once (0: in this process)")
    b.add_argument("--scheduler", metavar="ADDR", help="Dask scheduler address, e.g. tcp://host:8786")
    b.add_argument("--no-progress", action="store_true", help="no progress bar")
    b.set_defaults(run="era_deap.cli.bench:run_build", parser=b)
    b = bench.add_parser("info", help="provenance and landscape of a table (default: every shipped table)")
    b.add_argument("table", nargs="?", metavar="TABLE", help="a shipped table's name or a table file")
    b.set_defaults(run="era_deap.cli.bench:run_info", parser=b)
    b = bench.add_parser("verify", help="retrain a sample of a table's networks live and compare")
    b.add_argument("table", metavar="TABLE", help="a shipped table's name, a table file or a build directory")
    b.add_argument("--sample", type=_positive, default=10, help="networks to retrain (default 10)")
    b.add_argument("--seed", type=int, default=0, help="which networks are sampled (default 0)")
    b.add_argument("--device", default="cpu", help="cpu (default), cuda or cuda:N")
    b.set_defaults(run="era_deap.cli.bench:run_verify", parser=b)

    p = sub.add_parser("report", help="figures and tables from run directories")
    p.add_argument("run_dirs", nargs="+", metavar="RUN_DIR")
    p.add_argument("--out", help="report directory (default: report/ beside the runs)")
    p.set_defaults(run="era_deap.report.report:run_report", parser=p)

    p = sub.add_parser("rankcorr", help="rank correlation between training fidelities (thesis §4.2)")
    p.add_argument("config", metavar="CONFIG")
    p.add_argument("--out", help="output directory")
    p.set_defaults(run="era_deap.cli.rankcorr:run_rankcorr", parser=p)
    return parser


def _version() -> str:
    from .. import __version__
    return f"era-deap {__version__}"


def run_space(args) -> int:
    from ..space.space import load_space
    space = load_space(args.space_file)
    counts = {"configurations": space.n_configurations, "unique_networks": space.n_unique}
    if args.json:
        print(json.dumps(counts))
    else:
        print(f"space: {args.space_file or 'built-in default (configs/space.yaml)'}")
        for gene in space.genes:
            values = list(gene.values)
            shown = f"{values[0]}..{values[-1]}" if len(values) > 8 else ", ".join(map(str, values))
            print(f"  {gene.name:<14} {shown}")
        print(f"configurations:  {counts['configurations']:,}")
        print(f"unique networks: {counts['unique_networks']:,}")
    return 0


def run_arch(args) -> int:
    from ..space.genome import to_arch
    from ..space.architecture import cardinality, complexity
    space, genome = genome_from_args(args.parser, args)
    arch = to_arch(genome)
    info = complexity(arch, args.input, args.classes)
    result = {"key": space.key(genome), "genome": arch, "cardinality": cardinality(arch), **info}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"genome:      {result['key']}")
        print(f"depth:       {info['depth']} weighted layers")
        print(f"params:      {info['params']:,} ({info['params'] / 1e6:.2f} M)")
        print(f"cardinality: {result['cardinality']}")
        print(f"mult-adds:   {info['macs']:,} per {'x'.join(map(str, args.input))} image")
    return 0


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return pkgutil.resolve_name(args.run)(args) or 0
    except UserError as exc:
        print(f"era {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


def entry() -> None:
    """The `era` command. After `era train` the interpreter's teardown is skipped: with torch loaded it
    takes ~0.4 s on 2 cores (freeing ~1,200 modules), a tenth of a short training. Everything is written,
    closed and flushed by then, and `era train` starts no child process."""
    code = main()
    if sys.argv[1:2] == ["train"]:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):   # a closed pipe: as at a normal exit, nothing more to say
                pass
        os._exit(code)
    sys.exit(code)

