"""The reactor as a process of its own (what ``headwater up`` starts and supervises).

    python -m headwater.daemon.reactor_process [--parent-pid PID] [--json-logs] [--ready-fd FD]

Settings come from ``HEADWATER_*`` variables as everywhere else. A process rather than a
thread of the supervisor: deciding events is CPU work in Python, and sharing one interpreter
lock with the HTTP server made both slower (events over HTTP: ~1,700/s with the reactor as a
thread, ~2,150/s as a process, on 2 cores). Killing it at any point loses nothing: a batch is
one transaction, so an interrupted batch is decided again by the next reactor. With several
``headwater up`` on one PostgreSQL, one reactor leads and the others stand by
(``engine/leader.py``), taking over within about a second when the leader dies.

Exit codes: 0 after SIGTERM/SIGINT (the current batch is finished first) or when the parent
process is gone; 2 for bad arguments or settings; 1 if deciding failed (the supervisor
restarts it).
"""

from __future__ import annotations

import logging
import os
import threading

log = logging.getLogger("headwater.reactor")

PARENT_CHECK = 0.5  # seconds between checks that the supervisor is still there


def _watch_parent(parent_pid: int, stop: threading.Event) -> None:
    while not stop.wait(PARENT_CHECK):
        if os.getppid() != parent_pid:
            log.info("parent process %s is gone, exiting", parent_pid)
            stop.set()


def run_reactor(
    *, parent_pid: int | None = None, ready_fd: int | None = None, json_logs: bool = False
) -> int:
    """Run the reactor process until stopped; the exit code (see the module docstring).

    What ``headwater reactor`` and ``python -m headwater.daemon.reactor_process`` call."""
    from headwater.daemon.worker import child_process, setup_logging, signal_ready

    setup_logging(json_logs)

    from headwater.engine.leader import lead
    from headwater.engine.react.reactor import Reactor

    stop, inst = child_process()
    if inst is None:
        return 2
    if parent_pid is not None:
        threading.Thread(
            target=_watch_parent, args=(parent_pid, stop), name="parent-watch", daemon=True
        ).start()
    signal_ready(ready_fd)
    log.info("started (pid %d)", os.getpid())
    try:
        # Several `up`s on one database: only the leader decides; the others stand by.
        lead(inst, "reactor", stop, Reactor(inst).run)
    except Exception:
        log.exception("deciding failed; the supervisor restarts the reactor")
        return 1
    finally:
        inst.close()
    log.info("stopped")
    return 0


if __name__ == "__main__":
    # The flags live with the hidden `headwater reactor` command; imported only here so that
    # the engine never imports the CLI.
    from headwater.cli.worker_cmd import reactor

    reactor.main(prog_name="python -m headwater.daemon.reactor_process")
