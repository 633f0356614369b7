"""Standby and leadership: one reactor and one scheduler act among several ``headwater up``.

``lead(inst, role, stop, act)`` stands by until this process holds the role's leader lock
(``storage/leases.py``), then runs ``act(resign)`` until ``stop`` is set or the lock is lost
(``resign`` is set then, and ``act`` returns after its current step), and stands by again.
A standby tries the lock every ``TRY_EVERY`` seconds, so a dead leader is replaced within
about that (PostgreSQL frees a session lock when its connection ends). The leader checks its
lock connection every ``CHECK_EVERY`` seconds and steps down when it no longer answers.

Transitions are logged: ``reactor: standby -> leader after <holder> went away``.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from headwater.storage.faults import PASSING
from headwater.storage.leases import LeaderLock, current_holder, record_holder

if TYPE_CHECKING:
    from headwater.instance import Instance

log = logging.getLogger("headwater.leader")

TRY_EVERY = 0.5  # seconds between a standby's attempts to take the lock
CHECK_EVERY = 1.0  # seconds between a leader's checks that its lock is still held

# This process's role per lock, for /healthz and tests of this process ("leader"/"standby").
ROLES: dict[str, str] = {}


def holder_id() -> str:
    """How this process is named as a holder: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def lead(
    inst: Instance,
    role: str,
    stop: threading.Event,
    act: Callable[[threading.Event], object],
    *,
    try_every: float = TRY_EVERY,
    check_every: float = CHECK_EVERY,
) -> None:
    """Run ``act`` while this process leads ``role``, standing by otherwise, until ``stop``."""
    lock = LeaderLock(inst.db, role)
    me = holder_id()
    ROLES[role] = "standby"
    said = ""  # what was logged last about standing by, so it is logged once
    try:
        while not stop.is_set():
            try:
                got = lock.try_acquire()
            except Exception as exc:  # the database is away: keep standing by
                if said != "away":
                    log.warning("%s: standby; cannot try the leader lock: %s", role, exc)
                    said = "away"
                stop.wait(try_every)
                continue
            if not got:
                if said != "standby":
                    log.info("%s: standby; %s leads", role, _leader_now(inst, role))
                    said = "standby"
                stop.wait(try_every)
                continue
            said = ""
            _became_leader(inst, role, me)
            resign = threading.Event()
            watch = threading.Thread(
                target=_watch,
                args=(lock, role, stop, resign, check_every),
                name=f"{role}-leader-watch",
                daemon=True,
            )
            watch.start()
            try:
                act(resign)
            finally:
                resign.set()
                watch.join()
                lock.release()
                ROLES[role] = "standby"
            if not stop.is_set():
                log.warning("%s: leader -> standby", role)
    finally:
        lock.release()
        ROLES.pop(role, None)


def _leader_now(inst: Instance, role: str) -> str:
    try:
        with inst.db.read() as tx:
            h = current_holder(tx, role=role)
    except PASSING:
        h = None
    return "another process" if h is None else h.holder


def _became_leader(inst: Instance, role: str, me: str) -> None:
    ROLES[role] = "leader"
    try:
        with inst.db.transaction() as tx:
            before = record_holder(tx, role=role, holder=me, now=time.time())
    except PASSING as exc:  # only the record for operators is missing
        log.warning("%s: could not record the leader: %s", role, exc)
        before = None
    if before is None:
        log.info("%s: standby -> leader", role)
    elif before.holder == me:
        log.info("%s: standby -> leader (again)", role)
    else:
        log.info("%s: standby -> leader after %s went away", role, before.holder)


def _watch(
    lock: LeaderLock,
    role: str,
    stop: threading.Event,
    resign: threading.Event,
    check_every: float,
) -> None:
    """Set ``resign`` on stop, or when the lock's connection no longer answers."""
    step = min(0.1, check_every)
    next_check = time.monotonic() + check_every
    while not resign.is_set():
        if stop.wait(step):
            resign.set()
            return
        if time.monotonic() >= next_check:
            next_check = time.monotonic() + check_every
            if not lock.still_held():
                log.warning("%s: lost the leader lock (its database connection ended)", role)
                resign.set()
                return


def roles_here(inst: Instance) -> dict[str, str]:
    """This ``up``'s roles, ``{"reactor": "leader"|"standby", "scheduler": ...}``, for
    ``/healthz``; empty in a process that runs no leader loop (e.g. a bare API server).
    The reactor runs in a child process: it leads when the recorded holder is our child."""
    if not ROLES:
        return {}
    found = dict(ROLES)
    try:
        with inst.db.read() as tx:
            reactor = current_holder(tx, role="reactor")
    except PASSING:
        return found
    me = os.getpid()
    found["reactor"] = (
        "leader" if reactor is not None and me in (reactor.ppid, reactor.pid) else "standby"
    )
    return dict(sorted(found.items()))
