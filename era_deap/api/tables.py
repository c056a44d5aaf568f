"""Benchmark tables from Python: every network of a space trained with several seeds (docs/bench.md).

    table = load_table("digits-quick")
    table.optimum()                        # (key, mean error) of the best network
    table.lookup(arch)                     # its recorded training, mean over seeds (or seed=k)
    table.info()                           # what `era bench info` says of the landscape
"""
from __future__ import annotations

import os
from typing import Union

from ..bench.table import Table


def load_table(name: Union[str, os.PathLike]) -> Table:
    """A shipped table by name (`era bench info` lists them), or a table file or build directory."""
    return Table.load(str(name))
