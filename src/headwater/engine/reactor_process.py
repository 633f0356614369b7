"""The reactor as a process of its own (what ``headwater up`` starts and supervises).

    python -m headwater.engine.reactor_process [--parent-pid PID] [--json-logs] [--ready-fd FD]

Settings come from ``HEADWATER_*`` variables as everywhere else. A process rather than a
thread of the supervisor: deciding events is CPU work in Python, and sharing one interpreter
lock with the HTTP server made both slower (events over HTTP: ~1,700/s with the reactor as a
thread, ~2,150/s as a process, on 2 cores). Killing it at any point loses nothing: a batch is
one transaction, so an interrupted batch is decided again by the next reactor.

Exit codes: 0 after SIGTERM/SIGINT (the current batch is finished first) or when the parent
process is gone; 2 for bad arguments or settings; 1 if deciding failed (the supervisor
restarts it).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
from collections.abc import Sequence

log = logging.getLogger("headwater.reactor")

PARENT_CHECK = 0.5  # seconds between checks that the supervisor is still there


def _watch_parent(parent_pid: int, stop: threading.Event) -> None:
    while not stop.wait(PARENT_CHECK):
        if os.getppid() != parent_pid:
            log.info("parent process %s is gone, exiting", parent_pid)
            stop.set()


def main(argv: Sequence[str] | None = None) -> int:
    from headwater.engine.worker import (
        add_common_arguments,
        child_process,
        setup_logging,
        signal_ready,
    )

    parser = argparse.ArgumentParser(prog="python -m headwater.engine.reactor_process")
    add_common_arguments(parser)
    args = parser.parse_args(argv)

    setup_logging(args.json_logs)

    from headwater.engine.reactor import Reactor

    stop, inst = child_process()
    if inst is None:
        return 2
    if args.parent_pid is not None:
        threading.Thread(
            target=_watch_parent, args=(args.parent_pid, stop), name="parent-watch", daemon=True
        ).start()
    signal_ready(args.ready_fd)
    log.info("started (pid %d)", os.getpid())
    try:
        Reactor(inst).run(stop)
    except Exception:
        log.exception("deciding failed; the supervisor restarts the reactor")
        return 1
    finally:
        inst.close()
    log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
