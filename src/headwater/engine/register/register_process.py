"""Registering uploaded code in a child process, so that user code never runs in the server.

The API server stores the uploaded snapshot, then runs ``python -m
headwater.engine.register.register_process`` on it: the child imports the module from the snapshot
(as a worker would), registers what it declares in the same database and blob store, and
writes the result as JSON to a file the parent named. An exception, ``sys.exit``,
``os._exit``, a crash or an endless loop at import (killed after a timeout) becomes a
``DefinitionError`` naming the module, the file and the error; the server stays up, and two
registrations never share a half-imported module. The child's flags live with the hidden
``headwater register-process`` command (``cli/child_cmd.py``).
"""

from __future__ import annotations

import json
import os
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

from headwater.engine.isolated import ChildFailed, error_from, run_child, write_result
from headwater.engine.register.registry import Snapshot, store_snapshot
from headwater.errors import DefinitionError, HeadwaterError

if TYPE_CHECKING:
    from headwater.engine.register.registration import Activate, Registration
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
    from headwater.engine.register.registration import Registration

    timeout = registration_timeout() if timeout is None else timeout
    store_snapshot(inst, snap)
    main_file = _main_file(module, snap)
    args = ["--digest", snap.digest, "--module", module, "--activate", json.dumps(activate)]
    args += ["--project", project or "", "--domain", domain or ""]
    try:
        body = run_child(
            inst, "headwater.engine.register.register_process", args, timeout, on_timeout="timeout"
        )
    except ChildFailed as exc:
        if exc.reason == "timeout":
            raise DefinitionError(
                f"registering module {module!r} ({main_file}) did not finish within "
                f"{timeout:g} s, so it was stopped; importing a module must not run work "
                "or wait (move it into a task), or raise HEADWATER_REGISTRATION_TIMEOUT on "
                "the server" + exc.output
            ) from None
        raise DefinitionError(
            f"registering module {module!r} ({main_file}) ended the registration process "
            f"with {exc.reason} before it registered anything (does the module call "
            "os._exit or crash at import?)" + exc.output
        ) from None
    if "error" in body:
        raise _error(body["error"])
    return Registration(body["registered"], body.get("warnings", []))


def _main_file(module: str, snap: Snapshot) -> str:
    stem = module.replace(".", "/")
    return f"{stem}.py" if f"{stem}.py" in snap.files else f"{stem}/__init__.py"


def _error(err: dict[str, Any]) -> HeadwaterError:
    from headwater import errors

    return error_from(
        err,
        DefinitionError,
        lambda cls: cls not in (HeadwaterError, errors.ExecutionFailedError, errors.AuthError),
    )


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


def run_register(
    *,
    result: Path,
    digest: str,
    module: str,
    activate: Activate,
    project: str | None,
    domain: str | None,
) -> int:
    """Import ``module`` from snapshot ``digest`` and register it; the exit code. The
    answer (what was registered, or the error) goes to ``result`` as JSON.

    What ``headwater register-process`` (the flags: ``cli/child_cmd.py``) calls."""
    from headwater.engine.register.registration import register_module
    from headwater.engine.register.snapshots import code_dir, import_snapshot
    from headwater.instance import get_instance

    inst = get_instance()
    folder = (code_dir(inst) / digest).resolve()
    try:
        try:
            imported = import_snapshot(inst, digest, module)
        except HeadwaterError:
            raise
        except BaseException as exc:  # SystemExit and KeyboardInterrupt are the user's too
            write_result(result, {"error": _user_error(exc, folder, module, "importing")})
            return 1
        reg = register_module(inst, imported, project, domain, activate)
        write_result(result, {"registered": [r.to_dict() for r in reg], "warnings": reg.warnings})
        return 0
    except HeadwaterError as exc:
        write_result(result, {"error": {"type": type(exc).__name__, "message": str(exc)}})
        return 1
    except BaseException as exc:  # user code run while registering (a deploy-time callable)
        write_result(result, {"error": _user_error(exc, folder, module, "registering")})
        return 1


if __name__ == "__main__":
    # The flags live with the hidden `headwater register-process` command; imported only
    # here so that the engine never imports the CLI.
    from headwater.cli.child_cmd import register_process

    register_process.main(prog_name="python -m headwater.engine.register.register_process")
