"""InvoiceSearch on its own: the Lummy emulator over loopback and a real SQLite history.

It merges one match per invoice, newest first, applies a month or an amount to every
source, reuses a provider's answer for a while, and tells a slow or failing provider
and an unavailable history apart from "nothing found"."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from uuid import uuid4

import pytest

from bot.history.failures import StoreUnavailableError
from bot.history.records import AttemptRecord
from bot.history.store import HistoryStore
from bot.search import InvoiceSearch
from devkit.emulators import CUSTOMERS_ROUTE, Fault, FaultKind, LummyEmulator
from providers.customers import CustomerQuery, Month, SearchKind
from providers.errors import ProviderUnavailableError
from providers.registry import ConfiguredProviders
from tests.conftest import LUMMY_API_KEY, LUMMY_ORG, make_settings

RFC = "EDE010101AB1"
T0 = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Rig:
    search: InvoiceSearch
    store: HistoryStore
    lummy: LummyEmulator
    clock: Clock

    def customer_searches(self) -> int:
        return len([r for r in self.lummy.requests if r.route == CUSTOMERS_ROUTE])


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    async with LummyEmulator(api_key=LUMMY_API_KEY, organization_id=LUMMY_ORG) as lummy:
        settings = make_settings(
            lummy_base_url=lummy.base_url,
            tusfacturas_apikey=None,
            tusfacturas_apitoken=None,
            tusfacturas_usertoken=None,
            data_dir=str(tmp_path),
        )
        providers = ConfiguredProviders.connect(
            settings.registry, settings.providers, settings.http_options()
        )
        store = HistoryStore(settings.history_url())
        await store.start()
        clock = Clock()
        search = InvoiceSearch(
            providers, store, timeout=2.0, clock=clock, today=lambda: date(2026, 12, 7)
        )
        try:
            yield Rig(search, store, lummy, clock)
        finally:
            await store.aclose()
            await providers.aclose()


async def sent(
    store: HistoryStore,
    reference: str,
    *,
    at: datetime,
    provider: str = "lummy",
    tax_id: str = RFC,
    issued_on: date | None = None,
    total: str | None = None,
    outcome: str = "success",
) -> None:
    key = f"{provider}:{reference}"
    await store.record(
        AttemptRecord(
            attempt_id=str(uuid4()),
            created_at=at,
            user_id="U0AGENT01",
            provider=provider,
            invoice_key=key,
            reference=reference,
            outcome=outcome,
            customer_name="Empresa Demo S.A. de C.V.",
            customer_key="EMPRESA DEMO S.A. DE C.V.",
            customer_tax_id=tax_id,
            issued_on=issued_on,
            total=Decimal(total) if total else None,
            currency="MXN",
        ),
        finishes_attempt=True,
    )


def uuid(n: int) -> str:
    return f"{n:08d}-e29b-41d4-a716-446655440000"


async def test_an_rfc_lists_the_invoices_the_history_knows_newest_first(rig: Rig) -> None:
    await sent(rig.store, uuid(1), at=T0, issued_on=date(2026, 10, 3))
    await sent(rig.store, uuid(2), at=T0 + timedelta(hours=1), issued_on=date(2026, 11, 14))
    await sent(rig.store, uuid(3), at=T0, tax_id="XAXX010101000")

    found = await rig.search.search(CustomerQuery(SearchKind.RFC, RFC), provider="lummy")

    assert [m.reference for m in found.matches] == [uuid(2), uuid(1)]
    assert found.without_invoice_lists == ("lummy",)
    assert [c.tax_id for c in found.customers] == [RFC]
    assert found.matches[0].last_sent_at == T0 + timedelta(hours=1)
    assert found.failures == ()
    assert not found.history_unavailable


async def test_one_match_per_invoice_with_its_last_send(rig: Rig) -> None:
    await sent(rig.store, uuid(1), at=T0, issued_on=date(2026, 11, 14))
    await sent(rig.store, uuid(1), at=T0 + timedelta(hours=2), issued_on=date(2026, 11, 14))

    found = await rig.search.search(CustomerQuery(SearchKind.RFC, RFC))

    (match,) = found.matches
    assert match.last_sent_at == T0 + timedelta(hours=2)


@pytest.mark.parametrize(
    ("month", "amount", "expected"),
    [
        (Month(11), None, [2]),
        (Month(10, 2026), None, [1]),
        (None, Decimal("11600"), [2, 1]),
        (Month(11), Decimal("500"), []),
    ],
)
async def test_a_month_or_an_amount_narrows_every_source(
    rig: Rig, month: Month | None, amount: Decimal | None, expected: list[int]
) -> None:
    await sent(rig.store, uuid(1), at=T0, issued_on=date(2026, 10, 3), total="11600.00")
    await sent(
        rig.store, uuid(2), at=T0 + timedelta(hours=1), issued_on=date(2026, 11, 14), total="11600"
    )

    query = CustomerQuery(SearchKind.RFC, RFC, month=month, amount=amount)
    found = await rig.search.search(query)

    assert [m.reference for m in found.matches] == [uuid(n) for n in expected]


async def test_a_providers_answer_is_reused_for_a_while_then_asked_again(rig: Rig) -> None:
    query = CustomerQuery(SearchKind.RFC, RFC)
    await rig.search.search(query)
    await rig.search.search(CustomerQuery(SearchKind.RFC, RFC, month=Month(11)))
    assert rig.customer_searches() == 1

    rig.clock.now += rig.search.remembered_seconds + 1
    await rig.search.search(query)
    assert rig.customer_searches() == 2


async def test_a_slow_provider_is_a_failure_and_the_history_still_answers(rig: Rig) -> None:
    await sent(rig.store, uuid(1), at=T0, issued_on=date(2026, 11, 14))
    rig.lummy.inject(Fault(FaultKind.HANG), route=CUSTOMERS_ROUTE)
    rig.search.timeout = 0.5

    found = await rig.search.search(CustomerQuery(SearchKind.RFC, RFC))

    assert [m.reference for m in found.matches] == [uuid(1)]
    (failure,) = found.failures
    assert failure.provider == "lummy"
    assert failure.timed_out


async def test_a_failing_provider_carries_its_error(rig: Rig) -> None:
    rig.lummy.inject(Fault(FaultKind.SERVER_ERROR, status=503), route=CUSTOMERS_ROUTE)

    found = await rig.search.search(CustomerQuery(SearchKind.NAME, "empresa"))

    (failure,) = found.failures
    assert isinstance(failure.error, ProviderUnavailableError)
    assert found.matches == ()


async def test_an_unavailable_history_is_said_and_the_provider_still_answers(
    rig: Rig, tmp_path: Path
) -> None:
    not_a_directory = tmp_path / "not-a-directory"
    not_a_directory.write_text("")
    broken = HistoryStore(f"sqlite:///{not_a_directory}/history.sqlite3")
    with pytest.raises(StoreUnavailableError):
        await broken.start()
    search = InvoiceSearch(rig.search.providers, broken, timeout=2.0)

    found = await search.search(CustomerQuery(SearchKind.RFC, RFC))
    await broken.aclose()

    assert found.history_unavailable
    assert [c.tax_id for c in found.customers] == [RFC]
    assert found.matches == ()


async def test_more_than_shown_is_flagged(rig: Rig) -> None:
    for n in range(12):
        await sent(rig.store, uuid(n), at=T0 + timedelta(minutes=n), issued_on=date(2026, 11, 1))

    found = await rig.search.search(CustomerQuery(SearchKind.RFC, RFC))

    assert len(found.matches) == 10
    assert found.more
    assert found.matches[0].reference == uuid(11)
