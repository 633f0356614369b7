"""The ``headwater`` command line. ``main`` is the click group (the console script's entry).

Commands import the engine, rich and the type libraries only when they run, so starting the
CLI costs little more than importing click.
"""

from __future__ import annotations

from headwater.cli.app import cli

main = cli

__all__ = ["cli", "main"]
