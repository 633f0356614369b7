"""httpx is a dependency for client mode only: embedded commands never import it, and an
install without it gets an error naming the fix as soon as HEADWATER_API_URL is set."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _python(code: str, home: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADWATER_")}
    env.update(HEADWATER_HOME=str(home), **extra)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), env.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )


def test_embedded_commands_do_not_import_httpx(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from headwater.cli import main\n"
        "for args in (['events', 'emit', 'x.y'], ['executions', 'relaunch', 'nope'],"
        " ['executions', 'list'], ['artifacts', 'list']):\n"
        "    try:\n        main(args, prog_name='headwater')\n"
        "    except SystemExit:\n        pass\n"
        "print('httpx' in sys.modules)\n"
    )
    done = _python(code, tmp_path / "home")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "False"


def test_client_mode_without_httpx_says_how_to_install_it(tmp_path: Path) -> None:
    block = "import sys\nsys.modules['httpx'] = None  # as if it were not installed\n"
    api = {"HEADWATER_API_URL": "http://127.0.0.1:9"}
    python = _python(
        block + "import headwater\nheadwater.list_executions()\n", tmp_path / "home", **api
    )
    assert python.returncode == 1
    assert python.stderr.strip().splitlines()[-1] == (
        "headwater.errors.UserInputError: client mode (HEADWATER_API_URL is set) needs httpx: "
        "`pip install 'httpx>=0.27'` (reinstalling headwater installs it), or unset "
        "HEADWATER_API_URL"
    )
    cli = _python(
        block + "from headwater.cli import main\nmain(['executions', 'list'])\n",
        tmp_path / "home",
        **api,
    )
    assert cli.returncode == 2 and cli.stdout == ""
    assert cli.stderr.startswith("error: client mode (HEADWATER_API_URL is set) needs httpx")
    assert not (tmp_path / "home").exists()
