"""The duplicate guard's claims: one row per invoice someone is re-sending, or just sent.

A claim is a row in ``resend_claims`` whose primary key is the invoice, which
makes "first one wins" atomic on both backends, whatever the number of bot
processes. A claim is pending while its re-send runs and kept as sent for the
duplicate window afterwards; the history row that finishes an attempt ends its
claim in the same transaction (`end_claim`).

A claim can land after its caller stopped waiting for it (a deadline before
Slack's ack): `Claims.release_once_landed` is the one place that releases it then.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Final, TypeVar

import structlog
from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from bot.history.database import Database
from bot.history.failures import FailureGuard, StoreUnavailableError
from bot.history.records import AttemptRecord, Claim, ClaimState
from bot.history.schema import claims_table

log = structlog.get_logger(__name__)

_T = TypeVar("_T")

_INSERT: Final = insert(claims_table)

#: Outcomes after which the e-mail went out or may have: the claim is kept as "sent".
SENT_OUTCOMES: Final = frozenset({"success", "unknown"})


class Claims:
    """Takes and releases invoices for re-sends, so that two never run at once."""

    def __init__(self, database: Database, guard: FailureGuard) -> None:
        self._database = database
        self._guard = guard
        #: Releases of claims whose caller stopped waiting (kept so they are not collected).
        self._background: set[asyncio.Future[None]] = set()

    async def claim(
        self,
        invoice_key: str,
        *,
        attempt_id: str,
        user_id: str,
        now: datetime,
        sent_window: timedelta,
        pending_timeout: timedelta,
        force: bool,
    ) -> Claim | None:
        """Take the invoice for this attempt; returns the holder when someone else has it.

        Someone holds it while their re-send runs (up to ``pending_timeout``) and,
        once sent, for ``sent_window``. ``force`` takes it regardless (the agent
        confirmed a second send).
        """
        values = {
            "invoice_key": invoice_key,
            "attempt_id": attempt_id,
            "user_id": user_id,
            "state": ClaimState.PENDING.value,
            "updated_at": now,
        }

        def take_over(connection: Connection) -> tuple[bool, Claim | None]:
            """(settled, holder): the holder to report, or None once taken; not settled
            when the claim was released or taken by someone else meanwhile."""
            row = connection.execute(
                select(claims_table).where(claims_table.c.invoice_key == invoice_key)
            )
            found = row.first()
            if found is None:
                return False, None
            holder = Claim(
                attempt_id=found.attempt_id,
                user_id=found.user_id,
                state=ClaimState(found.state),
                updated_at=found.updated_at,
            )
            hold = pending_timeout if holder.state is ClaimState.PENDING else sent_window
            held = now - holder.updated_at < hold
            # Forcing overrides someone else's claim, never a run of this same attempt
            # still going (a retry button pressed twice).
            running_already = holder.attempt_id == attempt_id and holder.state is ClaimState.PENDING
            if held and (not force or running_already):
                return True, holder
            # Expired (or overridden): take it over only if nobody else did first.
            taken = connection.execute(
                update(claims_table)
                .where(
                    claims_table.c.invoice_key == invoice_key,
                    claims_table.c.attempt_id == holder.attempt_id,
                )
                .values(**values)
            )
            return taken.rowcount == 1, None

        def taken_over(outcome: tuple[bool, Claim | None]) -> bool:
            return outcome == (True, None)

        async with self._guard:
            for _ in range(3):
                try:
                    await self._unless_abandoned(
                        self._database.execute(_INSERT, values),
                        invoice_key,
                        attempt_id,
                        taken=lambda _: True,
                    )
                except IntegrityError:
                    # Someone holds it: see who, and whether it is still theirs.
                    settled, holder = await self._unless_abandoned(
                        self._database.write(take_over), invoice_key, attempt_id, taken=taken_over
                    )
                    if settled:
                        return holder
                else:
                    return None
            raise StoreUnavailableError(f"claim on {invoice_key} kept changing hands")

    async def _unless_abandoned(
        self,
        step: Awaitable[_T],
        invoice_key: str,
        attempt_id: str,
        *,
        taken: Callable[[_T], bool],
    ) -> _T:
        """``step``'s answer. A caller that stops waiting (a deadline) does not stop the
        step, which runs on to its commit: a claim it takes after all is released then."""
        running = asyncio.ensure_future(step)
        try:
            return await asyncio.shield(running)
        except asyncio.CancelledError:
            self.release_once_landed(running, invoice_key, attempt_id=attempt_id, taken=taken)
            raise

    def release_once_landed(
        self,
        step: asyncio.Future[_T],
        invoice_key: str,
        *,
        attempt_id: str,
        taken: Callable[[_T], bool],
    ) -> None:
        """Release this attempt's claim once ``step``, which its caller stopped waiting
        for, ends having taken it after all (``taken`` tells from its answer)."""

        def undo(done: asyncio.Future[_T]) -> None:
            if done.cancelled() or done.exception() is not None or not taken(done.result()):
                return
            log.warning("history_claim_abandoned", invoice_key=invoice_key)
            release = asyncio.ensure_future(
                self.release(invoice_key, attempt_id=attempt_id, sent=False, now=datetime.now(UTC))
            )
            self._background.add(release)
            release.add_done_callback(self._background.discard)

        step.add_done_callback(undo)

    async def release(
        self, invoice_key: str, *, attempt_id: str, sent: bool, now: datetime
    ) -> None:
        """End this attempt's claim: keep it as "sent" for the window, or drop it."""
        mine = (claims_table.c.invoice_key == invoice_key) & (
            claims_table.c.attempt_id == attempt_id
        )
        statement = (
            update(claims_table).where(mine).values(state=ClaimState.SENT.value, updated_at=now)
            if sent
            else delete(claims_table).where(mine)
        )
        async with self._guard:
            await self._database.execute(statement)


def end_claim(connection: Connection, record: AttemptRecord) -> None:
    """End the claim ``record``'s attempt still holds as pending (its key is the
    attempt's idempotency key), in the transaction writing ``record``: kept as sent
    after `SENT_OUTCOMES`, freed otherwise. A claim taken over, or already released,
    is left alone."""
    if record.idempotency_key is None:
        return
    mine = (
        (claims_table.c.invoice_key == record.invoice_key)
        & (claims_table.c.attempt_id == record.idempotency_key)
        & (claims_table.c.state == ClaimState.PENDING.value)
    )
    if record.outcome in SENT_OUTCOMES:
        connection.execute(
            update(claims_table)
            .where(mine)
            .values(state=ClaimState.SENT.value, updated_at=record.created_at)
        )
    else:
        connection.execute(delete(claims_table).where(mine))
