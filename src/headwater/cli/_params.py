"""Parsing command-line options: ``-i k=v``, ``-p k=v``, ISO times."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import click


def key_values(
    ctx: click.Context | None, param: click.Parameter | None, values: Sequence[str] | None
) -> dict[str, str]:
    """A click callback: ``("a=1", "b=x=y")`` -> ``{"a": "1", "b": "x=y"}``.

    A value without ``=``, an empty key or a key given twice is a usage error.
    """
    found: dict[str, str] = {}
    for item in values or ():
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE (e.g. region=EU)", ctx, param)
        if key in found:
            raise click.BadParameter(f"{key!r} is given twice", ctx, param)
        found[key] = value
    return found


def coerce_inputs(entity: Any, raw: dict[str, str]) -> dict[str, Any]:
    """Convert ``-i`` text to each input's declared type (TypeMismatchError naming the input).

    ``hw://`` values are left as URIs for the engine to resolve; names the workflow does not
    declare are passed on as text, and the engine refuses them with the list of inputs.
    """
    from headwater.engine.execute.text_inputs import from_text

    return from_text(entity, raw)


def iso_time(
    ctx: click.Context | None, param: click.Parameter | None, value: str | None
) -> datetime | None:
    """A click callback: an ISO 8601 date or datetime (``Z`` allowed), or None."""
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO date or datetime (e.g. 2026-11-01 or 2026-11-01T13:00:00Z)",
            ctx,
            param,
        ) from None
