"""Cheap checks of the embedded history's file, and moving a broken one aside.

An open SQLite connection keeps writing to the file it opened, even after the
file was deleted or replaced, and a file overwritten with garbage is noticed by
SQLite only lazily. So the store looks at the file itself: its identity (device
and inode, as when it was opened), its first 16 bytes (every SQLite database
starts with the same magic string), and whether the directory and the file can
be written. Each check is one ``stat`` or a 16-byte read.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

#: The first 16 bytes of every SQLite 3 database file.
MAGIC: Final = b"SQLite format 3\x00"
#: Files that belong to a database in WAL mode, beside the main file.
COMPANIONS: Final = ("-wal", "-shm", "-journal")


@dataclass(frozen=True)
class FileIdentity:
    """Which file a path named when it was opened."""

    device: int
    inode: int


def identity(path: Path) -> FileIdentity | None:
    """The file's identity now; None when it does not exist."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    return FileIdentity(device=info.st_dev, inode=info.st_ino)


def problem(path: Path, opened: FileIdentity) -> str | None:
    """Why ``path`` is no longer the database opened as ``opened``; None while it is."""
    now = identity(path)
    if now is None:
        return "database file missing"
    if now != opened:
        return "database file replaced"
    if not looks_like_sqlite(path):
        return "database file is not an SQLite database"
    return None


def looks_like_sqlite(path: Path) -> bool:
    """False when the file holds something other than an SQLite database.

    An empty file is a database nobody wrote to yet; a missing file is not garbage either.
    """
    try:
        with path.open("rb") as file:
            head = file.read(len(MAGIC))
    except FileNotFoundError:
        return True
    return not head or head == MAGIC


def writable(path: Path) -> bool:
    """Whether the directory (for SQLite's -wal and -shm files) and the file can be written."""
    if not os.access(path.parent, os.W_OK | os.X_OK):
        return False
    return not path.exists() or os.access(path, os.W_OK)


def move_aside(path: Path, reason: str, *, now: datetime | None = None) -> Path | None:
    """Rename the database and its companions to ``<name>.<reason>-<UTC time>``.

    Returns the main file's new name, or None when there was no main file. Nothing is
    deleted: a broken history is kept for a post-mortem.
    """
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%fZ")
    target = path.with_name(f"{path.name}.{reason}-{stamp}")
    moved = None
    if path.exists():
        path.rename(target)
        moved = target
    for suffix in COMPANIONS:
        companion = path.with_name(path.name + suffix)
        with contextlib.suppress(FileNotFoundError):
            companion.rename(target.with_name(target.name + suffix))
    return moved
