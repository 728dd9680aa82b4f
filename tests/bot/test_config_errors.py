"""Bad settings stop ``python -m bot`` with one readable line each, never a traceback.

Every case runs the real entry point as a child process with a clean environment
(tests/processes.py): each problem is one stderr line that names the variable
(with its provider's prefix) and says what is wrong, the exit status is 2, and
no configured secret is printed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import BOT_TOKEN, SIGNING_SECRET
from tests.processes import PYTHON_M_BOT, clean_env, run_command

DB_PASSWORD = "pw-must-not-be-printed"
TF_SECRET = "tf-apikey-must-not-be-printed"
SECRETS = (BOT_TOKEN, SIGNING_SECRET, DB_PASSWORD, TF_SECRET)
PREFIX = "Invalid configuration: "


def _serve(tmp_path: Path, *argv: str, **settings: str) -> tuple[int, list[str], str]:
    """Run ``python -m bot <argv>`` (``serve --http`` by default); (status, stderr lines, all)."""
    env = clean_env(
        tmp_path, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET, **settings
    )
    result = run_command([*PYTHON_M_BOT, *(argv or ("serve", "--http"))], env, tmp_path)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    return result.returncode, lines, result.stdout + result.stderr


def _assert_one_line(tmp_path: Path, variable: str, says: str, *argv: str, **settings: str) -> str:
    status, lines, output = _serve(tmp_path, *argv, **settings)
    assert status == 2, output
    assert "Traceback" not in output
    for secret in SECRETS:
        assert secret not in output, f"{secret} was printed"
    assert len(lines) == 1, lines
    (line,) = lines
    assert line.startswith(f"{PREFIX}{variable}: "), line
    assert says in line, line
    return line


@pytest.mark.parametrize(
    ("value", "says"),
    [
        (f"postgresql://auditor:{DB_PASSWORD}@127.0.0.1:notaport/history", "port"),
        (f"postgresql://auditor:{DB_PASSWORD}@127.0.0.1:99999/history", "port"),
        ("not a database url", "not a database URL"),
        (f"mysql://auditor:{DB_PASSWORD}@127.0.0.1/history", "postgresql"),
    ],
    ids=["port-not-a-number", "port-out-of-range", "not-a-url", "unsupported-database"],
)
def test_malformed_database_url(tmp_path: Path, value: str, says: str) -> None:
    _assert_one_line(tmp_path, "DATABASE_URL", says, DATABASE_URL=value)


def test_malformed_database_url_also_stops_the_history_export(tmp_path: Path) -> None:
    url = f"postgresql://auditor:{DB_PASSWORD}@127.0.0.1:notaport/history"
    argv = ("history", "export", "--since", "2026-01-01")
    _assert_one_line(tmp_path, "DATABASE_URL", "port", *argv, DATABASE_URL=url)


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("{7: apikey=" + TF_SECRET + "}", "not valid JSON"),
        (json.dumps({"x": {"apikey": TF_SECRET, "apitoken": "a", "usertoken": "b"}}), '"x"'),
        (json.dumps({"7": {"apikey": TF_SECRET}}), "apitoken"),
        (json.dumps({"0": {"apikey": TF_SECRET, "apitoken": "a", "usertoken": "b"}}), "0"),
        (json.dumps([TF_SECRET]), "dictionary"),
    ],
    ids=["not-json", "key-not-a-number", "field-missing", "key-out-of-range", "not-an-object"],
)
def test_malformed_provider_credentials(tmp_path: Path, value: str, says: str) -> None:
    _assert_one_line(tmp_path, "TUSFACTURAS_CREDENTIALS", says, TUSFACTURAS_CREDENTIALS=value)


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("PORT", "70000", "65535"),
        ("PORT", "http", "integer"),
        ("USERGROUP_CACHE_SECONDS", "-1", "0"),
        ("PROVIDER_MAX_RETRIES", "9", "5"),
        ("LUMMY_BASE_URL", "not a url", "URL"),
        ("LOG_LEVEL", "verbose", "debug"),
    ],
)
def test_out_of_range_or_mistyped_values(
    tmp_path: Path, variable: str, value: str, says: str
) -> None:
    _assert_one_line(tmp_path, variable, says, **{variable: value})


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    status, lines, output = _serve(
        tmp_path, PORT="70000", LOG_FORMAT="xml", TUSFACTURAS_CREDENTIALS="{7: nope}"
    )
    assert status == 2
    assert "Traceback" not in output
    named = sorted(line.removeprefix(PREFIX).split(":")[0] for line in lines)
    assert named == ["LOG_FORMAT", "PORT", "TUSFACTURAS_CREDENTIALS"], lines


def test_a_dotenv_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(b"PORT=3000\nLUMMY_API_KEY=\xff\xfe\n")
    line = _assert_one_line(tmp_path, ".env", "UTF-8")
    assert str(tmp_path) not in line or ".env" in line


def test_the_demo_with_real_providers_names_the_variable_too(tmp_path: Path) -> None:
    value = "{7: apikey=" + TF_SECRET + "}"
    argv = ("demo", "--real-providers", "--yes")
    status, lines, output = _serve(tmp_path, *argv, TUSFACTURAS_CREDENTIALS=value)
    assert status == 2, output
    assert "Traceback" not in output
    assert TF_SECRET not in output
    assert lines == [
        "Configuración inválida: TUSFACTURAS_CREDENTIALS: not valid JSON: "
        "Expecting property name enclosed in double quotes at column 2"
    ]
