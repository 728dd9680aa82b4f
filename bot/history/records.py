"""What the history keeps, as records: attempts, re-sends in flight and claims.

`AttemptRecord` and `InFlightAttempt` are each one row of their table
(`bot.history.schema`): one field per column, of the column's name. `TableRecord`
turns a record into its row and back from its fields, so a column added to a table
and to its record needs no conversion code of its own.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, Final, Self

from sqlalchemy import Row, String, Table

from bot.history.schema import attempts_table, inflight_table

#: The ``detail`` of a row written for an attempt whose process was lost: the only kind of
#: row a later write of the same attempt (its real outcome, from an outbox) replaces.
ORPHAN_DETAIL: Final = "the process running it stopped before the outcome was known"


@dataclass(frozen=True)
class ColumnForm:
    """How a field is kept when its column holds it in another form."""

    to_column: Callable[[Any], Any]
    from_column: Callable[[Any], Any]


@dataclass(frozen=True)
class TableRecord:
    """A record kept as one row of ``TABLE``, each field in the column of its name."""

    TABLE: ClassVar[Table]
    #: Fields whose column holds them in another form.
    FORMS: ClassVar[Mapping[str, ColumnForm]] = {}
    #: The text columns' lengths (PostgreSQL enforces them).
    _LENGTHS: ClassVar[Mapping[str, int]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._LENGTHS = {
            column.name: column.type.length
            for column in cls.TABLE.columns
            if isinstance(column.type, String) and column.type.length
        }

    def as_row(self) -> dict[str, Any]:
        """The record as column values, cut to the columns' lengths."""
        row = {field.name: getattr(self, field.name) for field in fields(self)}
        for name, form in self.FORMS.items():
            row[name] = form.to_column(row[name])
        for name, value in row.items():
            limit = self._LENGTHS.get(name)
            if limit is not None and isinstance(value, str) and len(value) > limit:
                row[name] = value[: limit - 1] + "…"
        return row

    @classmethod
    def from_row(cls, row: Row[Any]) -> Self:
        """A record from a result row; columns with no field (a row id) are left out."""
        names = {field.name for field in fields(cls)}
        values = {name: value for name, value in row._mapping.items() if name in names}
        for name, form in cls.FORMS.items():
            values[name] = form.from_column(values.get(name))
        return cls(**values)


def _joined(recipients: tuple[str, ...]) -> str | None:
    return ", ".join(recipients) or None


def _split(recipients: str | None) -> tuple[str, ...]:
    return tuple(r.strip() for r in (recipients or "").split(",") if r.strip())


#: The longest amount text the ``total`` column holds.
_TOTAL_LENGTH: Final = 40


def amount_text(amount: Decimal | None) -> str | None:
    """An amount as the ``total`` column holds it: its plain digits without trailing zeros
    (``1210.00`` and ``1210`` are the same text), so equal amounts compare equal in SQL.
    None for no amount, or one that is not finite or does not fit."""
    if amount is None or not amount.is_finite():
        return None
    text = format(amount.normalize(), "f")
    return text if len(text) <= _TOTAL_LENGTH else None


def _amount(text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


@dataclass(frozen=True)
class AttemptRecord(TableRecord):
    """One row of history: an allowed or refused re-send attempt and how it ended."""

    TABLE = attempts_table
    FORMS: ClassVar[Mapping[str, ColumnForm]] = {
        "recipients": ColumnForm(to_column=_joined, from_column=_split),
        "total": ColumnForm(to_column=amount_text, from_column=_amount),
    }

    attempt_id: str
    created_at: datetime
    user_id: str
    provider: str
    invoice_key: str
    reference: str
    outcome: str
    team_id: str | None = None
    channel_id: str | None = None
    alternative_email: str | None = None
    recipients: tuple[str, ...] = ()
    request_id: str | None = None
    idempotency_key: str | None = None
    latency_ms: int | None = None
    detail: str | None = None
    message_channel: str | None = None
    message_ts: str | None = None
    #: The invoice as a finished lookup described it (`bot.history.invoices`), else None.
    customer_name: str | None = None
    #: ``customer_name`` folded for search: upper case, no accents.
    customer_key: str | None = None
    #: The customer's CUIT (11 digits) or RFC (upper case), without separators.
    customer_tax_id: str | None = None
    issued_on: date | None = None
    total: Decimal | None = None
    currency: str | None = None
    #: The number customers see (a CFDI's ``A-1234``), upper case.
    display_number: str | None = None


@dataclass(frozen=True)
class InFlightAttempt(TableRecord):
    """A re-send written down before its provider call, until its history row is written."""

    TABLE = inflight_table

    attempt_id: str
    owner: str
    lease_until: datetime
    created_at: datetime
    user_id: str
    provider: str
    invoice_key: str
    reference: str
    idempotency_key: str
    job: str
    team_id: str | None = None
    channel_id: str | None = None
    alternative_email: str | None = None
    response_url: str | None = None
    message_channel: str | None = None
    message_ts: str | None = None


class ClaimState(enum.StrEnum):
    """Where a claimed re-send is: running, or sent (kept to spot duplicates)."""

    PENDING = "pending"
    SENT = "sent"


@dataclass(frozen=True)
class Claim:
    """Who holds an invoice right now, as seen when a claim was refused."""

    attempt_id: str
    user_id: str
    state: ClaimState
    updated_at: datetime
