"""``history export``: the CSV and JSON lines auditors get, and the command around them.

`export_history` runs against both real backends; the command runs as a real
process (``python -m bot history export``) with a clean environment.
"""

from __future__ import annotations

import csv
import io
import json
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from bot.history.export import COLUMNS, export_history
from bot.history.records import AttemptRecord
from bot.history.store import HistoryStore, database_url

ROOT = Path(__file__).resolve().parents[3]
SINCE = date(2026, 3, 2)
MIDNIGHT = datetime(2026, 3, 2, tzinfo=UTC)
TIMEOUT = 30.0


def attempt(at: datetime, **extra: Any) -> AttemptRecord:
    values: dict[str, Any] = {
        "attempt_id": str(uuid4()),
        "created_at": at,
        "user_id": "U0AGENT01",
        "provider": "lummy",
        "invoice_key": "lummy:550e8400-e29b-41d4-a716-446655440000",
        "reference": "550e8400-e29b-41d4-a716-446655440000",
        "outcome": "success",
        **extra,
    }
    return AttemptRecord(**values)


#: Recorded in this order. The day starts at 00:00 UTC, whatever the zone given.
BEFORE = attempt(MIDNIGHT - timedelta(microseconds=1), detail="the day before")
FULL = attempt(
    MIDNIGHT,
    team_id="T0TEAM",
    channel_id="C0SUPPORT",
    alternative_email="otra@cliente.com",
    recipients=("cliente@empresa.com", "otra@cliente.com"),
    request_id="abc123-def456",
    idempotency_key="5a9196ea-8403-4cec-8058-28278aa034f9",
    latency_ms=412,
    detail='envío "urgente", segunda línea\nfin',
    message_channel="C0SUPPORT",
    message_ts="1700000000.000100",
    customer_name="Empresa Demo S.A. de C.V.",
    customer_key="EMPRESA DEMO S.A. DE C.V.",
    customer_tax_id="EDE010101AB1",
    issued_on=date(2026, 2, 10),
    total=Decimal("11600.00"),
    currency="MXN",
    display_number="A-1234",
)
#: 22:30 on March 1st in Buenos Aires is 01:30 UTC on March 2nd: included.
LOCAL_EVENING = attempt(
    datetime(2026, 3, 1, 22, 30, tzinfo=timezone(timedelta(hours=-3))),
    user_id="U0AGENT02",
    provider="tusfacturas",
    invoice_key="tusfacturas:FACTURA B|V|2|6",
    reference="FACTURA B 0002-00000006",
    outcome="duplicate_warning",
    detail="held by U0AGENT01",
)
REFUSED = attempt(MIDNIGHT + timedelta(hours=5), outcome="refused", detail="not_allowed")
ALL = (BEFORE, FULL, LOCAL_EVENING, REFUSED)
EXPORTED = (FULL, LOCAL_EVENING, REFUSED)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str | None]:
    """A history database of each kind (sync, so it can resolve the PostgreSQL fixtures)."""
    if request.param == "sqlite":
        return database_url(data_dir=str(tmp_path / "data"), database_url=None), None
    url: str = request.getfixturevalue("postgres_url")
    schema: str = request.getfixturevalue("pg_schema")
    return database_url(data_dir=".", database_url=url), schema


@pytest.fixture
async def store(store_url: tuple[str, str | None]) -> AsyncIterator[HistoryStore]:
    url, schema = store_url
    started = HistoryStore(url, schema=schema)
    await started.start()
    for record in ALL:
        await started.record(record)
    yield started
    await started.aclose()


def expected_row(record: AttemptRecord) -> dict[str, str]:
    """What a CSV reader gives back for ``record``: strings, "" for nothing."""
    row = record.as_row()
    row["created_at"] = record.created_at.astimezone(UTC).isoformat()
    return {k: "" if v is None else str(v) for k, v in row.items()}


# --- export_history ------------------------------------------------------------------------


async def test_csv_has_a_header_and_one_row_per_attempt_since_the_day(
    store: HistoryStore,
) -> None:
    output = io.StringIO(newline="")
    count = await export_history(store, since=SINCE, output=output, fmt="csv")

    assert count == len(EXPORTED)
    text = output.getvalue()
    assert text.splitlines()[0] == ",".join(COLUMNS)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    assert tuple(reader.fieldnames or ()) == COLUMNS
    rows = list(reader)
    assert rows == [expected_row(record) for record in EXPORTED]
    # UTC in ISO 8601, whatever zone the attempt was recorded in.
    assert [row["created_at"] for row in rows] == [
        "2026-03-02T00:00:00+00:00",
        "2026-03-02T01:30:00+00:00",
        "2026-03-02T05:00:00+00:00",
    ]
    assert rows[0]["recipients"] == "cliente@empresa.com, otra@cliente.com"
    assert rows[0]["detail"] == 'envío "urgente", segunda línea\nfin'  # quoted, not split


@pytest.mark.parametrize("typed", ['=HYPERLINK("http://x","ver")', "+1", "-2+3", "@SUM(A1)"])
async def test_csv_cells_an_agent_typed_cannot_run_as_formulas(
    store: HistoryStore, typed: str
) -> None:
    # A refused command stores what was typed as the reference; auditors open CSVs in Excel.
    await store.record(
        attempt(MIDNIGHT + timedelta(hours=6), outcome="refused", reference=typed, detail="x")
    )
    output = io.StringIO(newline="")
    await export_history(store, since=SINCE, output=output, fmt="csv")

    (row,) = [r for r in csv.DictReader(io.StringIO(output.getvalue())) if r["detail"] == "x"]
    assert row["reference"] == "'" + typed
    jsonl = io.StringIO()
    await export_history(store, since=SINCE, output=jsonl, fmt="jsonl")
    assert any(json.loads(line)["reference"] == typed for line in jsonl.getvalue().splitlines())


async def test_jsonl_has_one_object_per_line_with_every_column(store: HistoryStore) -> None:
    output = io.StringIO()
    count = await export_history(store, since=SINCE, output=output, fmt="jsonl")

    lines = output.getvalue().splitlines()
    assert count == len(lines) == len(EXPORTED)
    objects = [json.loads(line) for line in lines]
    assert [tuple(o) for o in objects] == [COLUMNS] * len(EXPORTED)
    assert [o["attempt_id"] for o in objects] == [r.attempt_id for r in EXPORTED]
    full = objects[0]
    assert full["created_at"] == "2026-03-02T00:00:00+00:00"
    assert full["latency_ms"] == 412  # a number, not a string
    assert full["recipients"] == "cliente@empresa.com, otra@cliente.com"
    assert full["detail"] == FULL.detail
    # What the lookup said: the date in ISO 8601, the amount as exact text.
    assert (full["issued_on"], full["total"], full["customer_tax_id"]) == (
        "2026-02-10",
        "11600",
        "EDE010101AB1",
    )
    assert objects[2]["team_id"] is None  # null, not ""
    assert "envío" in lines[0]  # readable UTF-8, not \u escapes


async def test_a_day_with_nothing_gives_the_header_only(store: HistoryStore) -> None:
    output = io.StringIO()
    assert await export_history(store, since=date(2026, 3, 3), output=output) == 0
    assert output.getvalue().splitlines() == [",".join(COLUMNS)]
    jsonl = io.StringIO()
    assert await export_history(store, since=date(2026, 3, 3), output=jsonl, fmt="jsonl") == 0
    assert jsonl.getvalue() == ""


# --- the command ---------------------------------------------------------------------------


def clean_env(home: Path, **settings: str) -> dict[str, str]:
    """Only what Python needs to start and import ``bot``, plus ``settings``."""
    return {
        "PATH": os.environ.get("PATH", os.defpath),
        "PYTHONPATH": str(ROOT),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "DATA_DIR": str(home / "data"),
        **settings,
    }


def run_export(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-m", "bot", "history", "export", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


async def _fill(data_dir: Path) -> None:
    store = HistoryStore(database_url(data_dir=str(data_dir), database_url=None))
    try:
        await store.start()
        for record in ALL:
            await store.record(record)
    finally:
        await store.aclose()


@pytest.mark.parametrize("since", ["2026-13-01", "02/03/2026"])
def test_invalid_since_is_a_usage_error(tmp_path: Path, since: str) -> None:
    result = run_export(["--since", since], clean_env(tmp_path), tmp_path)
    assert result.returncode == 2
    assert "usage: reenviar-bot history export" in result.stderr
    assert f"--since: not a date in YYYY-MM-DD form: {since!r}" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stdout == ""
    assert not (tmp_path / "data").exists()  # refused before touching the history


def test_missing_since_is_a_usage_error(tmp_path: Path) -> None:
    result = run_export([], clean_env(tmp_path), tmp_path)
    assert result.returncode == 2
    assert "--since" in result.stderr
    assert "Traceback" not in result.stderr


async def test_output_file_gets_the_csv(tmp_path: Path) -> None:
    await _fill(tmp_path / "data")
    target = tmp_path / "audit" / "march.csv"
    target.parent.mkdir()

    result = run_export(
        ["--since", SINCE.isoformat(), "--output", str(target)], clean_env(tmp_path), tmp_path
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout == ""  # everything went to the file
    assert f"{len(EXPORTED)} attempts exported." in result.stderr
    with target.open(encoding="utf-8", newline="") as written:
        rows = list(csv.DictReader(written))
    assert rows == [expected_row(record) for record in EXPORTED]


async def test_jsonl_to_standard_output(tmp_path: Path) -> None:
    await _fill(tmp_path / "data")
    result = run_export(
        ["--since", "2026-03-02", "--format", "jsonl"], clean_env(tmp_path), tmp_path
    )
    assert result.returncode == 0, result.stderr
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["attempt_id"] for o in objects] == [r.attempt_id for r in EXPORTED]
    assert f"{len(EXPORTED)} attempts exported." in result.stderr


def test_no_history_yet_gives_the_header_only(tmp_path: Path) -> None:
    data_dir = tmp_path / "fresh" / "data"  # does not exist yet
    env = clean_env(tmp_path, DATA_DIR=str(data_dir))
    result = run_export(["--since", "2026-01-01"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [",".join(COLUMNS)]
    assert "0 attempts exported." in result.stderr
    assert "Traceback" not in result.stderr
    assert (data_dir / "history.sqlite3").is_file()  # created on first start, no setup step


def test_unreachable_database_is_exit_1_with_a_readable_message(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    password = "s3cr3t-db-password"
    env = clean_env(
        tmp_path, DATABASE_URL=f"postgresql://auditor:{password}@127.0.0.1:{port}/history"
    )
    result = run_export(["--since", "2026-03-02", "--output", "out.csv"], env, tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("Could not read the history:")
    assert "ConnectionRefusedError" in result.stderr  # says what went wrong
    assert "Traceback" not in result.stderr + result.stdout
    assert password not in result.stderr + result.stdout


def test_sqlite_file_that_cannot_be_opened_is_exit_1_without_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "data" / "history.sqlite3").mkdir(parents=True)
    result = run_export(["--since", "2026-03-02"], clean_env(tmp_path), tmp_path)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.startswith("Could not read the history:")
    assert "unable to open database file" in result.stderr
    assert "Traceback" not in result.stderr
    assert "Exception in thread" not in result.stderr


def test_unusable_data_dir_is_exit_1_with_a_readable_message(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    env = clean_env(tmp_path, DATA_DIR=str(blocker / "data"))
    result = run_export(["--since", "2026-03-02"], env, tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("Could not read the history: sqlite: NotADirectoryError")
    assert "Traceback" not in result.stderr + result.stdout
