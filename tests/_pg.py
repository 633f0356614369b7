"""Throwaway PostgreSQL servers for the test suite.

``start_cluster()`` runs ``initdb`` + ``pg_ctl start`` in a fresh directory under the
system temp dir, on a free loopback port, with durability switched off (the data is
thrown away). ``Cluster.stop()`` stops the server and deletes the directory; an
``atexit`` hook does the same for clusters that were never stopped explicitly, and a
small watchdog process (this file run as a script) does it if the test process dies
without running either (SIGKILL, ``os._exit``).

When running as root the server runs as the ``postgres`` OS user (``initdb`` refuses
to run as root). Otherwise the binaries run as the current user.

Binaries are looked up in this order: ``$HEADWATER_PG_BINDIR`` (if set, nothing else
is tried), the highest ``/usr/lib/postgresql/*/bin``, ``pg_config --bindir``, ``PATH``.
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

# psycopg is imported where used, keeping the watchdog process (this file run as a script)
# light.

__all__ = [
    "Cluster",
    "PostgresUnavailable",
    "create_database",
    "drop_database",
    "external_cluster",
    "find_bindir",
    "start_cluster",
]

BINDIR_ENV = "HEADWATER_PG_BINDIR"
SERVICE_USER = "postgres"
URL_SCHEME = "postgresql+psycopg"

_START_ATTEMPTS = 3
_PG_CTL_TIMEOUT_S = 60
_SERVER_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    # Throwaway data: trade durability for speed.
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
}
_DB_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


class PostgresUnavailable(RuntimeError):
    """PostgreSQL binaries were not found, or the server could not be started."""


@dataclass
class Cluster:
    """A PostgreSQL server. ``url`` points at its ``postgres`` database."""

    url: str
    port: int
    host: str = "127.0.0.1"
    base_dir: Path | None = None  # None for a server we did not start
    external: bool = False
    _stopper: _Stopper | None = field(default=None, repr=False)

    def stop(self) -> None:
        """Stop the server and delete its files (idempotent; no-op if external)."""
        if self._stopper is not None:
            self._stopper()

    def pause(self, mode: str = "fast") -> None:
        """Stop the server but keep its files (``resume()`` starts it again). ``fast``
        terminates the sessions (each gets admin_shutdown), ``immediate`` drops them as a
        crash would."""
        self._control().pg_ctl("stop", "-m", mode)

    def resume(self) -> None:
        """Start a paused server again: same data directory, same port."""
        self._control().pg_ctl("start")

    def restart(self, down: float = 0.0, mode: str = "fast") -> None:
        """Stop the server, wait ``down`` seconds, start it again on the same port and data."""
        self.pause(mode)
        time.sleep(down)
        self.resume()

    def _control(self) -> _Stopper:
        if self._stopper is None:
            raise PostgresUnavailable(
                f"cannot stop or start a server this suite did not start: {self.url}"
            )
        return self._stopper


def find_bindir() -> Path:
    """Directory holding ``initdb`` and ``pg_ctl``, or raise PostgresUnavailable."""
    override = os.environ.get(BINDIR_ENV)
    candidates: list[Path] = []
    if override:
        candidates.append(Path(override))
    else:
        versioned = []
        for path in glob.glob("/usr/lib/postgresql/*/bin"):
            version = Path(path).parent.name
            key = tuple(int(p) for p in version.split(".") if p.isdigit())
            versioned.append((key, Path(path)))
        candidates.extend(p for _, p in sorted(versioned, reverse=True))
        pg_config = shutil.which("pg_config")
        if pg_config:
            try:
                out = subprocess.run(
                    [pg_config, "--bindir"], capture_output=True, text=True, check=True
                ).stdout.strip()
            except (OSError, subprocess.CalledProcessError):
                out = ""
            if out:
                candidates.append(Path(out))
        initdb = shutil.which("initdb")
        if initdb:
            candidates.append(Path(initdb).resolve().parent)
    for bindir in candidates:
        if all(os.access(bindir / exe, os.X_OK) for exe in ("initdb", "pg_ctl")):
            return bindir
    searched = ", ".join(str(c) for c in candidates) or "nothing found"
    where = f"${BINDIR_ENV}" if override else "/usr/lib/postgresql/*/bin, pg_config, PATH"
    raise PostgresUnavailable(
        f"PostgreSQL server binaries (initdb, pg_ctl) not found in {where} (tried: {searched})"
    )


def start_cluster() -> Cluster:
    """Start a throwaway server on a free loopback port (takes ~1-2 s)."""
    bindir = find_bindir()
    run_as = _service_user()
    base = Path(tempfile.mkdtemp(prefix="hw-pg-"))
    try:
        stopper = _Stopper(bindir, base, run_as)  # from here on, stopper() cleans up
    except BaseException:
        shutil.rmtree(base, ignore_errors=True)
        raise
    try:
        base.chmod(0o700)
        if run_as is not None:
            os.chown(base, run_as.pw_uid, run_as.pw_gid)
        data = base / "data"
        log = base / "server.log"
        _run(
            [
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ],
            run_as,
            cwd=base,
            what="initdb",
        )
        last_error = ""
        for _ in range(_START_ATTEMPTS):
            port = _free_port()
            settings = {**_SERVER_SETTINGS, "port": str(port), "unix_socket_directories": str(base)}
            opts = " ".join(f"-c {k}={v}" for k, v in settings.items())
            proc = _run(
                [
                    str(bindir / "pg_ctl"),
                    "-D",
                    str(data),
                    "-l",
                    str(log),
                    "-o",
                    opts,
                    "-w",
                    "-t",
                    str(_PG_CTL_TIMEOUT_S),
                    "start",
                ],
                run_as,
                cwd=base,
                what="pg_ctl start",
                check=False,
            )
            if proc.returncode == 0:
                stopper.options = opts
                break
            last_error = _describe("pg_ctl start", proc, log)
            _kill_postmaster(data)  # in case it came up after pg_ctl gave up
            if "already in use" not in last_error:  # port race: retry; else give up
                raise PostgresUnavailable(last_error)
        else:
            raise PostgresUnavailable(last_error)
    except BaseException:
        stopper()
        raise

    url = f"{URL_SCHEME}://postgres@127.0.0.1:{port}/postgres"
    return Cluster(url=url, port=port, base_dir=base, _stopper=stopper)


def external_cluster(url: str) -> Cluster:
    """Wrap an already running server (e.g. ``$HEADWATER_TEST_POSTGRES_URL``)."""
    parts = urlsplit(_normalize_url(url))
    return Cluster(
        url=urlunsplit(parts),
        port=parts.port or 5432,
        host=parts.hostname or "localhost",
        external=True,
    )


def create_database(cluster: Cluster, name: str) -> str:
    """CREATE DATABASE ``name`` on ``cluster``; return its SQLAlchemy-style URL."""
    _check_name(name)
    import psycopg
    from psycopg import sql

    with psycopg.connect(libpq_url(cluster.url), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return _with_database(cluster.url, name)


def backends() -> list[Any]:
    """``params`` for a module-scoped fixture run once per backend (see ``database_for``)."""
    import pytest

    return [
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]


def database_for(request: Any, backend: str, home: Path) -> str:
    """A fresh database URL for a module-scoped fixture parametrized "sqlite"/"postgresql":
    a file under ``home``, or a new database on the session's cluster (dropped at the end
    when the cluster is external)."""
    if backend == "sqlite":
        return f"sqlite:///{home / 'headwater.db'}"
    cluster = request.getfixturevalue("postgres_cluster")
    name = f"hw_{uuid.uuid4().hex}"
    url = create_database(cluster, name)
    if cluster.external:
        request.addfinalizer(lambda: drop_database(cluster, name))
    return url


def drop_database(cluster: Cluster, name: str, force: bool = True) -> None:
    """DROP DATABASE ``name`` (if it exists), disconnecting its sessions (``force``; else it
    fails while a session is connected)."""
    _check_name(name)
    import psycopg
    from psycopg import sql

    statement = "DROP DATABASE IF EXISTS {} WITH (FORCE)" if force else "DROP DATABASE IF EXISTS {}"
    with psycopg.connect(libpq_url(cluster.url), autocommit=True) as conn:
        conn.execute(sql.SQL(statement).format(sql.Identifier(name)))


def libpq_url(url: str) -> str:
    """``postgresql+psycopg://...`` -> ``postgresql://...`` (what psycopg.connect takes)."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme.split('+', 1)[0]}{sep}{rest}"


# -- internals ---------------------------------------------------------------------------


class _Stopper:
    """Stops the server and deletes its directory: when called, at exit, or (through a
    watchdog process) when this process dies without running either, e.g. os._exit()."""

    def __init__(self, bindir: Path, base: Path, run_as: pwd.struct_passwd | None) -> None:
        self._bindir = bindir
        self._base = base
        self._run_as = run_as
        self._lock = threading.Lock()
        self._done = False
        self.options = ""  # the server options of ``pg_ctl start -o``
        self._owner_pid = os.getpid()  # a forked child must not stop our server at its exit
        # The watchdog blocks reading its stdin and cleans up when it hits EOF, i.e. when
        # we close the pipe (after a normal stop) or when this process dies. Own session,
        # so a Ctrl-C in the terminal does not reach it. The pipe is not inheritable, so
        # the server does not keep it open.
        self._watchdog: subprocess.Popen[bytes] | None = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--watchdog", str(base)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        atexit.register(self)

    def pg_ctl(self, action: str, *args: str) -> None:
        """``pg_ctl start`` (with the options of the first start) or ``stop``, waiting."""
        data = self._base / "data"
        argv = [str(self._bindir / "pg_ctl"), "-D", str(data), *args, "-w"]
        argv += ["-t", str(_PG_CTL_TIMEOUT_S)]
        if action == "start":
            argv += ["-l", str(self._base / "server.log"), "-o", self.options]
        _run([*argv, action], self._run_as, cwd=self._base, what=f"pg_ctl {action}")

    def __call__(self) -> None:
        if os.getpid() != self._owner_pid:
            return
        with self._lock:
            if self._done:
                return
            self._done = True
        atexit.unregister(self)
        data = self._base / "data"
        try:
            _run(
                [str(self._bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                self._run_as,
                cwd=self._base,
                what="pg_ctl stop",
                check=False,
                timeout=_PG_CTL_TIMEOUT_S,
            )
        except (OSError, subprocess.SubprocessError):
            pass
        finally:
            _kill_postmaster(data)
            shutil.rmtree(self._base, ignore_errors=True)
            self._release_watchdog()

    def _release_watchdog(self) -> None:
        watchdog, self._watchdog = self._watchdog, None
        if watchdog is None:
            return
        if watchdog.stdin is not None:
            watchdog.stdin.close()
        try:
            watchdog.wait(timeout=10)
        except subprocess.TimeoutExpired:
            watchdog.kill()
            watchdog.wait()


def _service_user() -> pwd.struct_passwd | None:
    """The OS user to run the server as when we are root (None: run as ourselves)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVICE_USER)
    except KeyError:
        raise PostgresUnavailable(
            f"running as root but there is no {SERVICE_USER!r} OS user to run the server as "
            "(initdb refuses to run as root; installing the postgresql package creates it)"
        )


def _run(
    argv: list[str],
    run_as: pwd.struct_passwd | None,
    *,
    cwd: Path,
    what: str,
    check: bool = True,
    timeout: float = _PG_CTL_TIMEOUT_S + 30,
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C"
    kwargs: dict[str, object] = {}
    if run_as is not None:
        env.update(HOME=run_as.pw_dir, USER=run_as.pw_name, LOGNAME=run_as.pw_name)
        kwargs = {"user": run_as.pw_uid, "group": run_as.pw_gid, "extra_groups": []}
    try:
        proc = subprocess.run(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            **kwargs,  # type: ignore[call-overload]
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise PostgresUnavailable(f"{what} could not be run ({' '.join(argv)}): {exc}")
    if check and proc.returncode != 0:
        raise PostgresUnavailable(_describe(what, proc, None))
    return proc


def _describe(what: str, proc: subprocess.CompletedProcess[str], log: Path | None) -> str:
    parts = [f"{what} failed (exit {proc.returncode}): {' '.join(map(str, proc.args))}"]
    if proc.stdout.strip():
        parts.append(f"--- stdout ---\n{proc.stdout.rstrip()}")
    if proc.stderr.strip():
        parts.append(f"--- stderr ---\n{proc.stderr.rstrip()}")
    if log is not None:
        try:
            text = log.read_text(errors="replace")
        except OSError:
            text = ""
        if text.strip():
            parts.append(f"--- server log ({log}) ---\n{text.rstrip()}")
    return "\n".join(parts)


def _kill_postmaster(data: Path) -> None:
    """Last resort: SIGQUIT (then SIGKILL) the postmaster listed in postmaster.pid."""
    try:
        pid = int((data / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return
    for sig in (signal.SIGQUIT, signal.SIGKILL):
        if not _alive(pid):
            return
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if not _alive(pid):
                return
            time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (exited, not yet reaped by its parent) counts as gone
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _normalize_url(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.split("+", 1)[0] not in ("postgresql", "postgres"):
        raise ValueError(f"not a PostgreSQL URL: {url!r}")
    return f"{URL_SCHEME}://{rest}"


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _check_name(name: str) -> None:
    if not _DB_NAME_RE.match(name):
        raise ValueError(f"invalid database name {name!r}")


def _watchdog_main(base: Path) -> None:
    sys.stdin.buffer.read()  # returns at EOF: the test process closed the pipe or died
    _kill_postmaster(base / "data")
    shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__" and sys.argv[1:2] == ["--watchdog"]:
    _watchdog_main(Path(sys.argv[2]))
