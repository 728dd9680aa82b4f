"""The storage checks: the history store opened and migrated as at start-up, DATA_DIR."""

from __future__ import annotations

from pathlib import Path

from bot.doctor.checks import Status
from bot.doctor.storage import data_dir, history_store
from tests.bot.doctor.conftest import settings_from


async def test_sqlite_in_data_dir_is_created_and_migrated(
    environment: dict[str, str], tmp_path: Path
) -> None:
    settings = settings_from(environment, data_dir=str(tmp_path / "new" / "data"))

    history, directory = await history_store(settings), await data_dir(settings)

    assert history.status is Status.PASSED
    assert history.summary.startswith(f"sqlite:///{tmp_path}/new/data/history.sqlite3, migrated")
    assert directory.status is Status.PASSED
    names = {path.name for path in (tmp_path / "new" / "data").iterdir()}
    assert "history.sqlite3" in names
    assert not any(name.startswith(".doctor-") for name in names)  # its probe file is gone


async def test_postgresql_is_reached_and_migrated(
    environment: dict[str, str], postgres_url: str, pg_schema: str
) -> None:
    settings = settings_from(environment, database_url=postgres_url, database_schema=pg_schema)

    result = await history_store(settings)

    assert result.status is Status.PASSED
    assert f"(schema {pg_schema}), migrated (schema version " in result.summary


async def test_a_data_dir_that_is_a_file(environment: dict[str, str], tmp_path: Path) -> None:
    file = tmp_path / "data-file"
    file.write_text("not a directory")

    result = await data_dir(settings_from(environment, data_dir=str(file)))

    assert (result.status, result.summary) == (Status.FAILED, f"{file} is not a directory")
