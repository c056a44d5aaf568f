"""The `era` command: one parser, one handler module per subcommand, imported only when it runs."""
from .main import entry, main

__all__ = ["entry", "main"]
