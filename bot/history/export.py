"""``reenviar-bot history export``: the attempts since a date, as CSV or JSON lines."""

from __future__ import annotations

import csv
import dataclasses
import json
from datetime import UTC, date, datetime
from typing import IO, Final

from bot.history.records import AttemptRecord
from bot.history.store import HistoryStore

COLUMNS: Final = tuple(field.name for field in dataclasses.fields(AttemptRecord))


#: A cell starting with one of these is a formula to a spreadsheet (CSV injection).
_FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")


def _row(record: AttemptRecord) -> dict[str, str | int | None]:
    row = record.as_row()
    row["created_at"] = record.created_at.astimezone(UTC).isoformat()
    row["issued_on"] = record.issued_on.isoformat() if record.issued_on else None
    return row


def _spreadsheet_safe(row: dict[str, str | int | None]) -> dict[str, str | int | None]:
    """Neutralise text an agent typed so a spreadsheet shows it instead of running it."""
    return {
        key: "'" + value if isinstance(value, str) and value.startswith(_FORMULA_STARTS) else value
        for key, value in row.items()
    }


async def export_history(
    store: HistoryStore, *, since: date, output: IO[str], fmt: str = "csv"
) -> int:
    """Write every attempt since ``since`` (00:00 UTC) to ``output``; returns the row count."""
    start = datetime(since.year, since.month, since.day, tzinfo=UTC)
    count = 0
    writer = csv.DictWriter(output, fieldnames=COLUMNS) if fmt == "csv" else None
    if writer is not None:
        writer.writeheader()
    async for record in store.export(start):
        row = _row(record)
        if writer is not None:
            writer.writerow(_spreadsheet_safe(row))
        else:
            output.write(json.dumps(row, ensure_ascii=False) + "\n")
        count += 1
    return count
