"""The ``headwater`` command line. ``main`` is the click group (the console script's entry).

Commands import the engine, rich and the type libraries only when they run, so starting the
CLI costs little more than importing click. The group itself is imported on first use of
``cli``/``main``, so that a worker started as ``python -m headwater.daemon.worker`` imports
only its own command (``cli.worker_cmd``), not every other one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from headwater.cli.app import cli

    main = cli

__all__ = ["cli", "main"]


def __getattr__(name: str) -> Any:
    if name in ("cli", "main"):
        from headwater.cli.app import cli

        return cli
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
