"""Relaunching for the HTTP server, in a child process: converting override inputs needs the
workflow's declared types, which live in the registered code, and the server never imports
registered code (see :mod:`headwater.engine.isolated`).

    python -m headwater.engine.execute.relaunch_process --result FILE --request FILE

(or the hidden ``headwater relaunch-process``; the flags live in ``cli/child_cmd.py``).

The request holds the execution id, the overrides (JSON values and command-line text) and the
project the caller may touch (``*`` for all); the child runs
:func:`headwater.engine.execute.relaunch.relaunch` and writes ``{"id": <new execution>}`` or
``{"error": {"type", "message"}}``.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from headwater.engine.isolated import ChildFailed, error_from, run_child, write_result
from headwater.errors import AuthError, HeadwaterError, UserInputError

if TYPE_CHECKING:
    from headwater.instance import Instance

DEFAULT_TIMEOUT = 60.0
ALL_PROJECTS = "*"


def relaunch_isolated(
    inst: Instance,
    execution_id: str,
    inputs: dict[str, Any] | None,
    text_inputs: dict[str, str] | None,
    *,
    allowed_project: str = ALL_PROJECTS,
    timeout: float = DEFAULT_TIMEOUT,
) -> str:
    """The id of a new execution repeating ``execution_id`` with overrides, prepared in a
    child process. A project the caller may not touch raises ``AuthError``; bad overrides
    raise the ``UserInputError`` the engine raised; nothing is stored then."""
    request = {
        "execution": execution_id,
        "inputs": inputs or {},
        "text_inputs": text_inputs or {},
        "allowed_project": allowed_project,
    }
    with tempfile.NamedTemporaryFile("w", suffix=".json", prefix="headwater-relaunch-") as f:
        json.dump(request, f)
        f.flush()
        try:
            body = run_child(
                inst,
                "headwater.engine.execute.relaunch_process",
                ["--request", f.name],
                timeout,
                on_timeout=f"it did not finish within {timeout:g} s",
            )
        except ChildFailed as exc:
            raise UserInputError(
                f"relaunching execution {execution_id!r} failed while loading its registered "
                f"code ({exc.reason}); does the module run work or exit at import?" + exc.output
            ) from None
    if "error" in body:
        raise error_from(
            body["error"],
            UserInputError,
            lambda cls: issubclass(cls, UserInputError | AuthError),
        )
    return str(body["id"])


def run_relaunch(*, result: Path, request: Path) -> int:
    """Relaunch what the JSON file ``request`` asks for; the exit code. The new execution's
    id (or the error) goes to ``result`` as JSON.

    What ``headwater relaunch-process`` (the flags: ``cli/child_cmd.py``) calls."""
    asked = json.loads(request.read_text())
    from headwater.engine.execute.relaunch import relaunch
    from headwater.instance import get_instance

    allowed = asked["allowed_project"]

    def check_project(project: str) -> None:
        if allowed != ALL_PROJECTS and project != allowed:
            raise AuthError(
                f"this token is for project {allowed!r}, not {project!r}; "
                f"use a token for {project!r}"
            )

    try:
        new_id = relaunch(
            get_instance(),
            asked["execution"],
            asked["inputs"] or None,
            text_inputs=asked["text_inputs"] or None,
            local_paths=False,
            check_project=check_project,
        )
    except HeadwaterError as exc:
        write_result(result, {"error": {"type": type(exc).__name__, "message": str(exc)}})
        return 1
    except BaseException as exc:  # the registered code, imported here, may raise anything
        what = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        message = f"relaunching {asked['execution']!r} failed in its registered code: {what}"
        write_result(result, {"error": {"type": "UserInputError", "message": message}})
        return 1
    write_result(result, {"id": new_id})
    return 0


if __name__ == "__main__":
    # The flags live with the hidden `headwater relaunch-process` command; imported only
    # here so that the engine never imports the CLI.
    from headwater.cli.child_cmd import relaunch_process

    try:
        relaunch_process.main(prog_name="python -m headwater.engine.execute.relaunch_process")
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # skip interpreter teardown: registered code may have left threads behind
