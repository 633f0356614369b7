"""Registering uploaded code in a child process, so that user code never runs in the server.

The API server stores the uploaded snapshot, then runs ``python -m
headwater.engine.register_process`` on it: the child imports the module from the snapshot
(as a worker would), registers what it declares in the same database and blob store, and
writes the result as JSON to a file the parent named. An exception, ``sys.exit``,
``os._exit``, a crash or an endless loop at import (killed after a timeout) becomes a
``DefinitionError`` naming the module, the file and the error; the server stays up, and two
registrations never share a half-imported module.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

from headwater.engine.registry import Snapshot, store_snapshot
from headwater.errors import DefinitionError, HeadwaterError

if TYPE_CHECKING:
    from headwater.engine.registration import Activate, Registration
    from headwater.instance import Instance

DEFAULT_TIMEOUT = 120.0
_OUTPUT_TAIL = 2000


def registration_timeout() -> float:
    """Seconds a registration may take (``HEADWATER_REGISTRATION_TIMEOUT``, default 120)."""
    text = os.environ.get("HEADWATER_REGISTRATION_TIMEOUT", "")
    try:
        value = float(text) if text else DEFAULT_TIMEOUT
    except ValueError:
        return DEFAULT_TIMEOUT
    return value if value > 0 else DEFAULT_TIMEOUT


def _child_env(inst: Instance) -> dict[str, str]:
    s = inst.settings
    env = {
        k: v for k, v in os.environ.items() if k not in ("HEADWATER_API_URL", "HEADWATER_API_TOKEN")
    }
    env.update(
        HEADWATER_HOME=str(s.home),
        HEADWATER_DATABASE_URL=s.database_url,
        HEADWATER_STORAGE_URL=s.storage_url,
        HEADWATER_PROJECT=s.project,
        HEADWATER_DOMAIN=s.domain,
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def _tail(path: Path) -> str:
    try:
        with path.open("rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - _OUTPUT_TAIL))
            text = f.read().decode("utf-8", "replace").strip()
    except OSError:
        return ""
    return f"; its last output:\n{text}" if text else ""


def register_uploaded(
    inst: Instance,
    snap: Snapshot,
    module: str,
    project: str | None,
    domain: str | None,
    activate: Activate,
    timeout: float | None = None,
) -> Registration:
    """Store ``snap`` and register ``module`` from it in a child process."""
    from headwater.engine.registration import Registration

    timeout = registration_timeout() if timeout is None else timeout
    store_snapshot(inst, snap)
    main_file = _main_file(module, snap)
    with tempfile.TemporaryDirectory(prefix="headwater-register-") as tmp:
        result, output = Path(tmp) / "result.json", Path(tmp) / "output.txt"
        argv = [sys.executable, "-m", "headwater.engine.register_process"]
        argv += ["--digest", snap.digest, "--module", module, "--result", str(result)]
        argv += ["--activate", json.dumps(activate)]
        argv += ["--project", project or "", "--domain", domain or ""]
        with output.open("wb") as out:
            proc = subprocess.Popen(
                argv,
                env=_child_env(inst),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: a timeout kills what it started too
            )
            try:
                code = proc.wait(timeout)
            except subprocess.TimeoutExpired:
                _kill_group(proc)
                raise DefinitionError(
                    f"registering module {module!r} ({main_file}) did not finish within "
                    f"{timeout:g} s, so it was stopped; importing a module must not run work "
                    "or wait (move it into a task), or raise HEADWATER_REGISTRATION_TIMEOUT on "
                    "the server" + _tail(output)
                ) from None
        if not result.is_file():
            raise DefinitionError(
                f"registering module {module!r} ({main_file}) ended the registration process "
                f"with exit status {code} before it registered anything (does the module call "
                "os._exit or crash at import?)" + _tail(output)
            )
        body = json.loads(result.read_text())
    if "error" in body:
        raise _error(body["error"])
    return Registration(body["registered"], body.get("warnings", []))


def _main_file(module: str, snap: Snapshot) -> str:
    stem = module.replace(".", "/")
    return f"{stem}.py" if f"{stem}.py" in snap.files else f"{stem}/__init__.py"


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
    proc.wait()


def _error(err: dict[str, Any]) -> HeadwaterError:
    from headwater import errors

    cls = getattr(errors, str(err.get("type")), None)
    if not (isinstance(cls, type) and issubclass(cls, HeadwaterError)) or cls in (
        HeadwaterError,
        errors.ExecutionFailedError,
        errors.AuthError,
    ):
        cls = DefinitionError
    return cls(str(err.get("message") or "registration failed"))


# -- the child ---------------------------------------------------------------------------
def _user_error(exc: BaseException, folder: Path, module: str, doing: str) -> dict[str, str]:
    """The error in the user's code: the module, the file and line in the snapshot, the
    exception, and the frames of the user's own files."""
    where = None
    frames = []
    for frame in traceback.extract_tb(exc.__traceback__):
        path = Path(frame.filename)
        if path.is_relative_to(folder):
            rel = path.relative_to(folder).as_posix()
            where = f"{rel}, line {frame.lineno}"
            frames.append(f'  File "{rel}", line {frame.lineno}, in {frame.name}')
            if frame.line:
                frames.append(f"    {frame.line}")
    if isinstance(exc, SyntaxError) and exc.filename:
        path = Path(exc.filename)
        rel = path.relative_to(folder).as_posix() if path.is_relative_to(folder) else path.name
        where = f"{rel}, line {exc.lineno}"
    what = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if isinstance(exc, SystemExit):
        what = f"SystemExit (sys.exit({exc.code!r}))"
    message = f"{doing} module {module!r} failed" + (f" at {where}" if where else "")
    message += f": {what}"
    if frames:
        message += "\nTraceback (the module's own code):\n" + "\n".join(frames)
    return {"type": "DefinitionError", "message": message}


def _write(path: Path, body: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(body, default=str))
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m headwater.engine.register_process")
    for flag in ("--digest", "--module", "--result", "--activate", "--project", "--domain"):
        parser.add_argument(flag, required=True)
    args = parser.parse_args(argv)
    result = Path(args.result)
    from headwater.engine.registration import register_module
    from headwater.engine.snapshots import code_dir, import_snapshot
    from headwater.instance import get_instance

    inst = get_instance()
    folder = (code_dir(inst) / args.digest).resolve()
    try:
        try:
            module = import_snapshot(inst, args.digest, args.module)
        except HeadwaterError:
            raise
        except BaseException as exc:  # SystemExit and KeyboardInterrupt are the user's too
            _write(result, {"error": _user_error(exc, folder, args.module, "importing")})
            return 1
        reg = register_module(
            inst, module, args.project or None, args.domain or None, json.loads(args.activate)
        )
        _write(result, {"registered": [r.to_dict() for r in reg], "warnings": reg.warnings})
        return 0
    except HeadwaterError as exc:
        _write(result, {"error": {"type": type(exc).__name__, "message": str(exc)}})
        return 1
    except BaseException as exc:  # user code run while registering (a deploy-time callable)
        _write(result, {"error": _user_error(exc, folder, args.module, "registering")})
        return 1


if __name__ == "__main__":
    sys.exit(main())
