"""``reenviar-bot demo`` as a program: scripted runs, exit statuses, refusals.

Run through ``python -c`` with stdin not a terminal, as CI or a curious evaluator
piping a script would.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from devkit.demo.cli import add_demo_parser

ROOT = Path(__file__).resolve().parents[3]
DEMO = "import sys; from devkit.demo.cli import main; sys.exit(main(sys.argv[1:]))"


def run(*args: str, stdin: str = "", timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "HOME": os.environ.get("HOME", str(ROOT)),
        "PYTHONPATH": str(ROOT),
        "LANG": "C.UTF-8",
        "PYTHONIOENCODING": "utf-8",
    }
    return subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-c", DEMO, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=env,
        check=False,
    )


def test_the_parser_wires_into_reenviar_bot() -> None:
    parser = argparse.ArgumentParser(prog="reenviar-bot")
    commands = parser.add_subparsers(dest="command", required=True)
    add_demo_parser(commands)
    args = parser.parse_args(["demo", "--script", "smoke", "--keep"])
    assert (args.command, args.script, args.keep, args.real_providers, args.yes) == (
        "demo",
        "smoke",
        True,
        False,
        False,
    )


@pytest.mark.timeout(90)
def test_smoke_script_passes() -> None:
    result = run("--script", "smoke")

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    assert "✓ Guion smoke.txt: todos los pasos pasaron." in result.stdout
    assert "reenviar-bot demo" in result.stdout
    assert "nada se envió a ningún cliente real" in result.stdout
    assert "550e8400-e29b-41d4-a716-446655440000  cliente@empresa.com" in result.stdout
    assert "Set up the Slack app" in result.stdout


@pytest.mark.timeout(60)
def test_a_script_on_stdin_runs_without_a_terminal() -> None:
    result = run(stdin="/reenviar ayuda\n? Reenviar una factura al cliente\nsalir\n")

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    assert "Guion <stdin>: 3 pasos" in result.stdout


@pytest.mark.timeout(60)
def test_a_failing_script_exits_non_zero_naming_the_step(tmp_path: Path) -> None:
    script = tmp_path / "roto.txt"
    script.write_text(
        "/reenviar ayuda\n!espera 1\n# the bot never says this\n? texto que no existe\n",
        encoding="utf-8",
    )

    result = run("--script", str(script))

    assert result.returncode == 1
    assert "Falló el paso 3 (roto.txt, línea 4: «? texto que no existe»)" in result.stderr
    assert "Registro del bot:" in result.stderr


def test_an_unknown_script_is_refused() -> None:
    result = run("--script", "no-existe")
    assert result.returncode == 2
    assert "No existe el guion «no-existe»" in result.stderr


def test_real_providers_without_a_terminal_need_yes(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("LUMMY_API_KEY=k\nLUMMY_ORGANIZATION_ID=o\n", encoding="utf-8")
    result = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-c", DEMO, "--real-providers", "--script", "smoke"],
        input="",
        capture_output=True,
        text=True,
        timeout=30,
        cwd=tmp_path,
        env={"PATH": os.environ.get("PATH", os.defpath), "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert result.returncode == 2
    assert "--yes" in result.stderr


def test_real_providers_without_credentials_are_refused(tmp_path: Path) -> None:
    result = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-c", DEMO, "--real-providers", "--yes", "--script", "smoke"],
        input="",
        capture_output=True,
        text=True,
        timeout=30,
        cwd=tmp_path,
        env={"PATH": os.environ.get("PATH", os.defpath), "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert result.returncode == 2
    assert "no hay credenciales" in result.stderr
