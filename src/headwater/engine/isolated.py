"""Running a step that imports user code in a child process, never in the server.

The HTTP server must not import registered code: a module may ``os._exit``, crash, hang, or
leave half-imported state that a concurrent request would see. ``run_child`` starts ``python
-m <module> --result FILE ...`` with the instance's settings, waits up to a timeout (then
kills the child's whole process group), and returns the JSON the child wrote; the child
reports a refused request as ``{"error": {"type", "message"}}`` (see :func:`error_from`).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from headwater.errors import HeadwaterError

if TYPE_CHECKING:
    from headwater.instance import Instance

_OUTPUT_TAIL = 2000


class ChildFailed(Exception):
    """The child ended without writing a result (``reason`` says how; ``output`` is the tail
    of what it printed)."""

    def __init__(self, reason: str, output: str) -> None:
        super().__init__(reason)
        self.reason, self.output = reason, output


def child_env(inst: Instance) -> dict[str, str]:
    """The environment of a child that works on ``inst`` directly (never through a server)."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("HEADWATER_API_URL", "HEADWATER_API_TOKEN")
    }
    return {**env, **inst.settings.to_env(), "PYTHONDONTWRITEBYTECODE": "1"}


def tail(path: Path) -> str:
    """``; its last output:`` and the end of the child's output, or "" when it printed none."""
    try:
        with path.open("rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - _OUTPUT_TAIL))
            text = f.read().decode("utf-8", "replace").strip()
    except OSError:
        return ""
    return f"; its last output:\n{text}" if text else ""


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
    proc.wait()


def run_child(
    inst: Instance, module: str, args: Sequence[str], timeout: float, *, on_timeout: str
) -> dict[str, Any]:
    """Run ``python -m module --result FILE *args``; the JSON it wrote to FILE.

    Raises ChildFailed when the child exits without a result or runs past ``timeout`` seconds
    (then its process group is killed; ``on_timeout`` is the reason given)."""
    with tempfile.TemporaryDirectory(prefix="headwater-child-") as tmp:
        result, output = Path(tmp) / "result.json", Path(tmp) / "output.txt"
        argv = [sys.executable, "-m", module, "--result", str(result), *args]
        with output.open("wb") as out:
            proc = subprocess.Popen(
                argv,
                env=child_env(inst),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: a timeout kills what it started too
            )
            try:
                code = proc.wait(timeout)
            except subprocess.TimeoutExpired:
                _kill_group(proc)
                raise ChildFailed(on_timeout, tail(output)) from None
        if not result.is_file():
            raise ChildFailed(f"exit status {code}", tail(output))
        body: dict[str, Any] = json.loads(result.read_text())
        return body


def write_result(path: Path, body: dict[str, Any]) -> None:
    """Write the child's result atomically (the parent never reads half of it)."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(body, default=str))
    os.replace(tmp, path)


def error_from(
    err: dict[str, Any], default: type[HeadwaterError], allowed: Callable[[type], bool]
) -> HeadwaterError:
    """The exception a child reported, as one of Headwater's error classes when ``allowed``
    accepts it, else ``default`` (a child never chooses an arbitrary class)."""
    from headwater import errors

    cls = getattr(errors, str(err.get("type")), None)
    if not (isinstance(cls, type) and issubclass(cls, HeadwaterError) and allowed(cls)):
        cls = default
    return cls(str(err.get("message") or default.__doc__ or "failed"))
