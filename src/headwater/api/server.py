"""Serving the app with uvicorn in a background thread (what ``headwater up`` does)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import uvicorn

from headwater.api.app import create_app

if TYPE_CHECKING:
    from headwater.instance import Instance


class ApiServer:
    """``start()`` binds and serves in a daemon thread; ``stop()`` shuts down gracefully.

    Constructing it for a non-loopback ``host`` records that the database is exposed (auth
    stays required, see ``headwater.api.exposure``), or raises ``HostError`` when auth is
    not required yet.
    """

    def __init__(
        self,
        inst: Instance,
        host: str,
        port: int,
        worker_processes: Callable[[], int] | None = None,
    ) -> None:
        app = create_app(inst, worker_processes=worker_processes, host=host, port=port)
        self.gate = app.state.gate
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=5,
        )
        self.url = f"http://{host if ':' not in host else f'[{host}]'}:{port}"
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self._serve, name="headwater-api", daemon=True)
        self.failure: str | None = None

    def _serve(self) -> None:
        try:
            self.server.run()
        except SystemExit:  # uvicorn exits when it cannot bind
            self.failure = self.failure or "could not bind (is the port in use?)"
        except Exception as exc:
            self.failure = f"{type(exc).__name__}: {exc}"

    def start(self, timeout: float = 15.0) -> None:
        """Serve; raises RuntimeError when the server did not come up."""
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(self.failure or f"did not start within {timeout} s")
            time.sleep(0.01)

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        if self.thread.is_alive():
            self.thread.join(timeout)
        self.gate.last_used.flush(timeout=2.0)
