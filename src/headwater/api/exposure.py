"""Whether the HTTP API must demand a token: the auth policy, kept across restarts.

Auth is required when any of these holds:

- ``HEADWATER_AUTH=required`` is set;
- the database carries the *exposed* flag: a server over it has bound a non-loopback address
  (recorded before binding, kept in ``server_state``, never cleared by revoking tokens);
- at least one API token is live.

So once a server has listened beyond loopback, revoking every token closes it (everything but
``/healthz`` answers 401) instead of opening it. Only the operator can lift the flag, on the
server's machine, on the database directly: ``headwater tokens allow-open``. A server that
bound a non-loopback address keeps requiring auth until it stops, flag or not.
"""

from __future__ import annotations

import ipaddress
import itertools
import json
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from headwater.errors import HostError
from headwater.storage import api_tokens, server_state

if TYPE_CHECKING:
    from headwater.instance import Instance

EXPOSED = "auth_required"  # the server_state key
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})

_changes = itertools.count(1)
_generation = 0


def generation() -> int:
    """A number that changes whenever this process changes tokens or the exposed flag (caches
    of auth decisions compare it, so such a change takes effect at once in this process)."""
    return _generation


def changed() -> None:
    global _generation
    _generation = next(_changes)


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and the usual names of the loopback interface."""
    text = host.strip().strip("[]")
    if text.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return False


def required_by_env() -> bool:
    return os.environ.get("HEADWATER_AUTH", "").strip().lower() == "required"


@dataclass(frozen=True)
class Exposure:
    """The exposed flag: why and since when auth is required on this database."""

    reason: str
    since: datetime

    def to_dict(self) -> dict[str, str]:
        return {"reason": self.reason, "since": self.since.isoformat()}


def record_exposure(inst: Instance, host: str, port: int | None = None) -> None:
    """Remember, before binding ``host``, that this database is served beyond loopback.

    The first record is kept (its time says since when auth has been required)."""
    where = f"{host}:{port}" if port is not None else host
    value = json.dumps({"reason": f"an API server bound {where}", "host": host})
    with inst.db.transaction() as tx:
        server_state.put_if_absent(tx, key=EXPOSED, value=value, now=time.time())
    changed()


def exposure(inst: Instance) -> Exposure | None:
    """The exposed flag of this database, or None."""
    with inst.db.read() as tx:
        row = server_state.get(tx, key=EXPOSED)
    if row is None:
        return None
    try:
        reason = str(json.loads(row.value).get("reason", row.value))
    except (ValueError, AttributeError):
        reason = str(row.value)
    return Exposure(reason, datetime.fromtimestamp(row.updated_at, UTC))


def allow_open(inst: Instance) -> bool:
    """Lift the exposed flag; True when it was set. Without live tokens (and without
    ``HEADWATER_AUTH=required``) a loopback server is open again after this; running
    servers that bound a non-loopback address keep requiring auth until they stop."""
    with inst.db.transaction() as tx:
        lifted = server_state.delete(tx, key=EXPOSED)
    changed()
    return lifted


def auth_required(inst: Instance) -> bool:
    """True when callers must present a token (see the module docstring)."""
    if required_by_env():
        return True
    with inst.db.read() as tx:
        if server_state.get(tx, key=EXPOSED) is not None:
            return True
        return api_tokens.count_active(tx) > 0


def check_host(host: str, inst: Instance | None = None) -> str:
    """Refuse a non-loopback address unless API auth is required on ``inst`` (the instance in
    use when None): a live API token, ``HEADWATER_AUTH=required``, or a database already served
    beyond loopback (then revoking every token leaves the server closed, never open).

    The API server records the exposure itself, just before it binds (``create_app``)."""
    text = host.strip().strip("[]")
    if is_loopback(text):
        return text
    if inst is None:
        from headwater.instance import get_instance

        inst = get_instance()
    if auth_required(inst):
        return text
    raise HostError(
        f"refusing to listen on {host!r} without authentication: anyone who can reach it "
        "could read and change everything. Enable auth by creating an API token first "
        "(`headwater tokens create NAME --project '*' --role admin`), then pass it to "
        "clients as HEADWATER_API_TOKEN; or listen on a loopback address (127.0.0.1, ::1, "
        "localhost)"
    )
