"""Carrying out a GC: rows first, in committed batches, then the blobs no row references.

Order (each step safe to cut short and rerun): versions become tombstones, executions with their
node records go, old events and decisions go, each batch in a transaction of its own; then the
blob sweep lists the store, reads every stored text that may name a blob (and the JSON and
directory blobs those name), and deletes the blobs nothing names that are older than the blob
age. A blob is only deleted once no committed row references it, so a crash at any point leaves
no row pointing at a missing blob; what a crash leaves behind (unreferenced blobs) the next run
finds again.

One GC at a time per database: the ``gc`` lock (``storage/leases.py``; its holder, host:pid,
is recorded in ``server_state``).
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from headwater.engine.leader import holder_id
from headwater.engine.retention.plan import Plan, planning
from headwater.engine.retention.policy import DAY, Retention
from headwater.errors import Busy, HeadwaterError
from headwater.storage import retention as rows
from headwater.storage.leases import LeaderLock, current_holder, record_holder

if TYPE_CHECKING:
    from headwater.instance import Instance

log = logging.getLogger("headwater.gc")

ROLE = "gc"
BATCH = 500
_KEY = re.compile(r"sha256/[0-9a-f]{2}/[0-9a-f]{62}")


@dataclass
class Outcome:
    """What a GC run did."""

    plan: Plan
    versions: int = 0
    executions: int = 0
    events: int = 0
    decisions: int = 0
    blobs: int = 0
    blob_bytes: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "purged_versions": self.versions,
            "deleted_executions": self.executions,
            "deleted_events": self.events,
            "deleted_decisions": self.decisions,
            "deleted_blobs": self.blobs,
            "blob_bytes_freed": self.blob_bytes,
            "seconds": round(self.seconds, 3),
            "plan": self.plan.to_dict(),
        }

    def text(self) -> str:
        return (
            f"purged {self.versions} version(s), deleted {self.executions} execution(s), "
            f"{self.events} event(s), {self.decisions} decision(s) and {self.blobs} blob(s) "
            f"({self.blob_bytes} bytes) in {self.seconds:.2f} s"
        )


class GcLock:
    """The ``gc`` lock: one GC per database; says who holds it when it cannot be taken."""

    def __init__(self, inst: Instance) -> None:
        self.inst = inst
        self.lock = LeaderLock(inst.db, ROLE)

    def acquire(self, wait: float) -> None:
        deadline = time.monotonic() + wait
        while not self.lock.try_acquire():
            if time.monotonic() >= deadline:
                self.lock.release()  # its connection (PostgreSQL) goes with it
                with self.inst.db.read() as tx:
                    held = current_holder(tx, role=ROLE)
                who = (
                    f"{held.holder} (since {time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(held.since))}Z)"
                    if held
                    else "another process"
                )
                raise Busy(
                    f"another gc holds the gc lock on {self.inst.db.where}: {who}; wait for "
                    "it to finish (or stop that process), or pass a longer --wait"
                )
            time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))
        with self.inst.db.transaction() as tx:
            record_holder(tx, role=ROLE, holder=holder_id(), now=time.time())

    def release(self) -> None:
        self.lock.release()


def collect(
    inst: Instance,
    retention: Retention,
    *,
    batch: int = BATCH,
    now: float | None = None,
    progress: Callable[[str, int], None] | None = None,
    pause: float = 0.0,
) -> Outcome:
    """Plan and carry out a GC (the caller holds the ``gc`` lock). ``pause``: seconds to wait
    after each committed batch (to throttle a GC on a busy database)."""
    t0 = time.perf_counter()
    now = time.time() if now is None else now
    with planning(inst, retention, now=now) as plan:
        out = Outcome(plan)
        after = 0
        while True:
            with inst.db.read() as tx:
                todo = rows.version_batch(tx, after=after, limit=batch)
            if not todo:
                break
            after = todo[-1][0]
            by_policy: dict[str, list[int]] = {}
            for vid, policy in todo:
                by_policy.setdefault(policy, []).append(vid)
            with inst.db.transaction() as tx:
                for policy, ids in by_policy.items():
                    out.versions += rows.purge_versions(
                        tx, ids, policy=policy, now=time.time(), started=now
                    )
            _tell(progress, "versions", out.versions, pause)
        last = ""
        while True:
            with inst.db.read() as tx:
                doomed = rows.execution_batch(tx, after=last, limit=batch)
            if not doomed:
                break
            last = doomed[-1]
            with inst.db.transaction() as tx:
                out.executions += rows.delete_executions(tx, doomed)
            _tell(progress, "executions", out.executions, pause)
    if retention.events_days is not None:
        before = now - retention.events_days * DAY
        while True:
            with inst.db.transaction() as tx:
                ev, dec = rows.delete_old_events(tx, before, batch)
            out.events += ev
            out.decisions += dec
            _tell(progress, "events", out.events, pause)
            if not ev and not dec:
                break
    days = retention.blob_age_days()
    if days is not None:
        out.blobs, out.blob_bytes = sweep_blobs(
            inst, older_than=now - days * DAY, batch=batch, progress=progress
        )
    out.seconds = time.perf_counter() - t0
    return out


def _tell(
    progress: Callable[[str, int], None] | None, what: str, n: int, pause: float = 0.0
) -> None:
    if progress is not None:
        progress(what, n)
    if pause:
        time.sleep(pause)


# -- blobs ----------------------------------------------------------------------------------------


def _referenced(inst: Instance, texts: Iterable[str]) -> set[str]:
    """Every blob key the texts name, and those named inside the blobs they name that hold
    JSON (a ``json`` value's blob, a directory manifest): a superset is safe, a subset not."""
    found: set[str] = set()
    pending: list[str] = []
    for text in texts:
        for key in _KEY.findall(text):
            if key not in found:
                found.add(key)
                pending.append(key)
    while pending:
        key = pending.pop()
        try:
            with inst.blobs.open(key) as fh:
                head = fh.read(1)
                if head not in (b"{", b"["):
                    continue
                body = head + fh.read()
        except (HeadwaterError, OSError):
            continue
        for inner in _KEY.findall(body.decode("utf-8", "replace")):
            if inner not in found:
                found.add(inner)
                pending.append(inner)
    return found


def _stored(inst: Instance) -> Iterator[tuple[str, float, int]]:
    """(key, modification time, size) of every blob in the store."""
    folder = inst.blobs.folder
    if folder is not None:
        root = folder / "sha256"
        if not root.is_dir():
            return
        for sub in sorted(root.iterdir()):
            if not sub.is_dir():
                continue
            for f in sub.iterdir():
                key = f"sha256/{sub.name}/{f.name}"
                if _KEY.fullmatch(key):
                    try:
                        st = f.stat()
                    except FileNotFoundError:
                        continue
                    yield key, st.st_mtime, st.st_size
        return
    fs = inst.blobs._remote()
    base = inst.blobs.location("sha256/00/" + "0" * 62).rsplit("/sha256/", 1)[0]
    for path, info in fs.find(f"{base}/sha256", detail=True).items():
        key = "sha256/" + path.split("/sha256/", 1)[-1]
        if _KEY.fullmatch(key):
            mtime = info.get("mtime") or info.get("LastModified") or 0
            stamp = mtime.timestamp() if hasattr(mtime, "timestamp") else float(mtime or 0)
            yield key, stamp, int(info.get("size") or 0)


def _delete(inst: Instance, key: str) -> None:
    folder = inst.blobs.folder
    if folder is not None:
        try:
            os.unlink(folder / key)
        except FileNotFoundError:
            pass
        return
    inst.blobs._remote().rm_file(inst.blobs.location(key))


def sweep_blobs(
    inst: Instance,
    *,
    older_than: float,
    batch: int = BATCH,
    progress: Callable[[str, int], None] | None = None,
) -> tuple[int, int]:
    """Delete the blobs no stored row references, last modified before ``older_than`` (a
    blob written for a row not committed yet is younger); (blobs deleted, their bytes)."""
    start = time.time()
    with inst.db.read() as tx:
        mark = rows.marks(tx, start)
        referenced = _referenced(inst, rows.referencing_texts(tx))
    doomed = [
        (k, size) for k, mtime, size in _stored(inst) if k not in referenced and mtime < older_than
    ]
    deleted = freed = 0
    for i in range(0, len(doomed), batch):
        chunk = doomed[i : i + batch]
        # rows written since the sweep read the table may name an old blob again (a value
        # stored twice is stored once): read them before each batch
        with inst.db.read() as tx:
            again = _referenced(inst, rows.texts_since(tx, mark))
        for key, size in chunk:
            if key in again:
                continue
            _delete(inst, key)
            deleted += 1
            freed += size
        _tell(progress, "blobs", deleted)
    return deleted, freed
