"""Logging a loop's trouble with storage once per outage, not once per attempt."""

from __future__ import annotations

import logging
import time

log = logging.getLogger("headwater.outage")


class Outage:
    """``failed(exc)`` on each failed attempt, ``ok()`` on each good one: logs a warning at
    the first failure, a reminder every ``remind`` seconds, and when the loop recovers."""

    def __init__(self, loop: str, remind: float = 60.0) -> None:
        self.loop = loop
        self.remind = remind
        self.since: float | None = None
        self._told = 0.0

    def failed(self, exc: BaseException) -> None:
        now = time.monotonic()
        if self.since is None:
            self.since = self._told = now
            log.warning("%s: storage unavailable, retrying: %s", self.loop, exc)
        elif now - self._told >= self.remind:
            self._told = now
            log.warning(
                "%s: storage still unavailable after %.0f s: %s", self.loop, now - self.since, exc
            )

    def ok(self) -> None:
        if self.since is not None:
            log.info("%s: storage back after %.1f s", self.loop, time.monotonic() - self.since)
            self.since = None
