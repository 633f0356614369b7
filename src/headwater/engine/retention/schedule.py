"""GC on a schedule: ``headwater up`` with ``HEADWATER_GC_INTERVAL`` (seconds) runs
:func:`run` under ``engine/leader.lead`` (role ``gc-schedule``), so one server among several
on a database collects; each run also takes the ``gc`` lock, so it never overlaps a
``headwater gc`` started by hand (that run is skipped and logged)."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from headwater.engine.retention.policy import PolicyError, parse
from headwater.errors import Busy, HeadwaterError, UserInputError

if TYPE_CHECKING:
    from headwater.instance import Instance

log = logging.getLogger("headwater.gc")


def interval(raw: str | None) -> float | None:
    """The ``gc_interval`` setting in seconds (None: GC is not scheduled)."""
    if raw is None or str(raw).strip() == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise UserInputError(
            f"HEADWATER_GC_INTERVAL must be a number of seconds > 0, got {raw!r} "
            "(e.g. 3600 for hourly)"
        )
    return value


def run(inst: Instance, stop: threading.Event, every: float) -> None:
    """Collect every ``every`` seconds until ``stop`` is set (the first after one interval)."""
    from headwater.engine.retention.run import GcLock, collect

    while not stop.wait(every):
        try:
            retention = parse(inst.settings.retention)
        except PolicyError as exc:
            log.error("gc: not run: %s", exc)
            continue
        lock = GcLock(inst)
        try:
            lock.acquire(wait=0)
        except Busy as exc:
            log.info("gc: skipped: %s", exc)
            continue
        try:
            out = collect(inst, retention)
            log.info("gc: %s", out.text())
        except HeadwaterError as exc:
            log.error("gc: failed: %s", exc)
        finally:
            lock.release()
