"""`PORT=5101 make run` must put port 5101 in the links it mails (issue 19): the run target
sets BASE_URL from HOST and PORT unless BASE_URL is given. Read from `make -n` (the commands
make would run), not from the Makefile text."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _commands(**env: str) -> str:
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    environ = {k: v for k, v in os.environ.items() if k != "BASE_URL"} | env
    return subprocess.run([make, "-n", "run"], cwd=ROOT, env=environ, text=True,  # noqa: S603
                          capture_output=True, check=True).stdout


def _served_base_url(commands: str, **env: str) -> str:
    line = next(line for line in commands.splitlines() if " run --host " in line)
    environ = {k: v for k, v in os.environ.items() if k != "BASE_URL"} | env
    script = line.split(" .venv/bin/flask")[0] + ' sh -c \'printf %s "$BASE_URL"\''
    shell = shutil.which("sh") or "/bin/sh"
    # the environment prefix of our own Makefile's command, evaluated by the shell
    return subprocess.run([shell, "-c", script], env=environ, text=True,  # noqa: S603
                          capture_output=True, check=True).stdout


def test_the_port_make_run_serves_on_is_the_port_in_mail_links():
    commands = _commands(PORT="5101")
    assert "--port 5101" in commands
    assert _served_base_url(commands) == "http://127.0.0.1:5101"


def test_an_explicit_base_url_wins():
    commands = _commands(PORT="5101")
    assert _served_base_url(commands, BASE_URL="https://register.example.nl") == (
        "https://register.example.nl")
