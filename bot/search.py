"""Finding invoices from what the customer says: the providers' searches and the history.

`InvoiceSearch.search` asks every provider that can search by the query (its
credentials permitting) and the bot's own history, at once and bounded, and merges
the answers into `Match`es, one per invoice, newest first. A provider's answer is
briefly remembered: TusFacturas bills a customer's account statement as a request,
and an agent narrowing a search asks the same again. A month or an amount filters
the merged matches, whichever source they came from.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Final

import structlog

from bot import deadlines
from bot.history.failures import StoreUnavailableError
from bot.history.records import AttemptRecord
from bot.history.store import HistoryStore
from bot.search_results import Match, ProviderFailure, SearchOutcome
from providers.base import InvalidReferenceError, InvoiceFacts
from providers.customers import CustomerQuery
from providers.errors import ProviderError
from providers.registry import ConfiguredProviders
from providers.search import SearchResult

log = structlog.get_logger(__name__)

#: How many matches a search shows at most (Block Kit's checkboxes hold 10 options).
SHOWN: Final = 10
#: How long a provider's answer is reused for the same query.
REMEMBERED_SECONDS: Final = 300.0
_MAX_REMEMBERED: Final = 500
#: Outcomes after which a history row means the invoice was (or may have been) e-mailed.
_SENT: Final = frozenset({"success", "unknown"})


@dataclass
class _Remembered:
    result: SearchResult
    until: float


@dataclass
class InvoiceSearch:
    """Searches the providers and the history; remembers the providers' answers briefly."""

    providers: ConfiguredProviders
    store: HistoryStore
    timeout: float = deadlines.SEARCH
    remembered_seconds: float = REMEMBERED_SECONDS
    clock: Callable[[], float] = time.monotonic
    today: Callable[[], date] = field(default=lambda: datetime.now(UTC).date())
    _remembered: dict[tuple[str, str, str], _Remembered] = field(default_factory=dict)

    async def search(self, query: CustomerQuery, *, provider: str | None = None) -> SearchOutcome:
        """Matches for ``query`` in ``provider`` (None: every provider) and the history."""
        keys = [
            key
            for key in self.providers.registry
            if (provider is None or key == provider) and self.providers.can_search(key, query.kind)
        ]
        started = self.clock()
        history = asyncio.ensure_future(self._history(query, provider))
        asked = [asyncio.ensure_future(self._ask(key, query)) for key in keys]
        done, pending = await asyncio.wait([history, *asked], timeout=self.timeout)
        for task in pending:
            task.cancel()
        results: list[SearchResult] = []
        failures: list[ProviderFailure] = []
        for key, task in zip(keys, asked, strict=True):
            if task not in done:
                failures.append(ProviderFailure(key))
            elif isinstance(task.exception(), ProviderError):
                failures.append(ProviderFailure(key, task.exception()))  # type: ignore[arg-type]
            elif task.exception() is None:
                results.append(task.result())
            else:
                log.error("search_failed", provider=key, error=repr(task.exception())[:200])
                failures.append(ProviderFailure(key))
        rows = history.result() if history in done and history.exception() is None else None
        if rows is not None:
            left = self.timeout - (self.clock() - started)
            rows += await self._customers_history(results, query, left)
        matches = self._merged(results, rows or [], query)
        log.info(
            "invoice_search",
            kind=query.kind.value,
            provider=provider,
            found=len(matches),
            failed=[f.provider for f in failures],
        )
        return SearchOutcome(
            query=query,
            provider=provider,
            matches=tuple(matches[:SHOWN]),
            more=len(matches) > SHOWN,
            customers=tuple(c for r in results for c in r.customers),
            searched=tuple(results),
            failures=tuple(failures),
            history_unavailable=rows is None,
        )

    async def _ask(self, key: str, query: CustomerQuery) -> SearchResult:
        """The provider's answer, remembered for a while (filters apply afterwards)."""
        memo = (key, query.kind.value, query.value)
        now = self.clock()
        remembered = self._remembered.get(memo)
        if remembered is not None and remembered.until > now:
            return remembered.result
        result = await self.providers.search(key, query)
        if result is None:  # not searchable after all (checked before asking)
            return SearchResult(provider=key, query=query)
        if len(self._remembered) >= _MAX_REMEMBERED:
            self._remembered = {k: v for k, v in self._remembered.items() if v.until > now}
        self._remembered[memo] = _Remembered(result, now + self.remembered_seconds)
        return result

    async def _customers_history(
        self, results: Iterable[SearchResult], query: CustomerQuery, seconds: float
    ) -> list[AttemptRecord]:
        """What the history knows of the customers a provider recognised by another id (a
        Lummy customer found by name: its invoices re-sent before, by its RFC)."""
        asked = {
            (customer.provider, kind, customer.tax_id)
            for result in results
            for customer in result.customers
            if customer.tax_id
            and customer.tax_id != query.value
            and (kind := self.providers.registry[customer.provider].tax_id) is not None
        }
        if not asked or seconds <= 0:
            return []
        lookups = [
            self._history(replace(query, kind=kind, value=tax_id), provider)
            for provider, kind, tax_id in sorted(asked)[:SHOWN]
        ]
        try:
            async with asyncio.timeout(seconds):
                found = await asyncio.gather(*lookups)
        except (TimeoutError, StoreUnavailableError):
            return []
        return [row for rows in found for row in rows]

    async def _history(self, query: CustomerQuery, provider: str | None) -> list[AttemptRecord]:
        try:
            return await self.store.invoices_matching(
                query, provider=provider, limit=SHOWN * 3, today=self.today()
            )
        except StoreUnavailableError as exc:
            log.error("history_read_failed", surface="search", error=str(exc)[:200])
            raise

    def _merged(
        self, results: Iterable[SearchResult], rows: Iterable[AttemptRecord], query: CustomerQuery
    ) -> list[Match]:
        """One match per invoice, what the provider says completed by the history."""
        matches: dict[str, Match] = {}
        for result in results:
            for facts in result.invoices:
                match = self._from_facts(facts)
                if match is not None:
                    matches.setdefault(match.invoice_key, match)
        newest_first = sorted(rows, key=lambda row: row.created_at, reverse=True)
        for row in newest_first:  # the first row of an invoice is its last attempt
            known = matches.get(row.invoice_key)
            if known is None:
                matches[row.invoice_key] = _from_row(row)
            elif known.last_sent_at is None and row.outcome in _SENT:
                matches[row.invoice_key] = replace(
                    known, last_sent_by=row.user_id, last_sent_at=row.created_at
                )
        found = [m for m in matches.values() if _passes_filters(m, query, self.today())]
        return sorted(found, key=lambda m: m.newest_first, reverse=True)

    def _from_facts(self, facts: InvoiceFacts) -> Match | None:
        provider = self.providers.registry.get(facts.provider)
        if provider is None:
            return None
        try:
            request = provider.parse(facts.reference)
        except InvalidReferenceError:
            log.warning("search_reference_unreadable", provider=facts.provider)
            return None
        return Match(
            provider=facts.provider,
            reference=request.reference,
            invoice_key=request.invoice_key,
            issued_on=facts.issued_on,
            total=facts.total,
            currency=facts.currency,
            customer_name=facts.customer_name,
            customer_tax_id=facts.customer_id,
            status=facts.status,
            payment=facts.payment,
            display_number=facts.display_number,
            recipients=facts.recipients or (),
        )


def _from_row(row: AttemptRecord) -> Match:
    sent = row.outcome in _SENT
    return Match(
        provider=row.provider,
        reference=row.reference,
        invoice_key=row.invoice_key,
        issued_on=row.issued_on,
        total=row.total,
        currency=row.currency,
        customer_name=row.customer_name,
        customer_tax_id=row.customer_tax_id,
        display_number=row.display_number,
        recipients=row.recipients,
        last_sent_by=row.user_id if sent else None,
        last_sent_at=row.created_at if sent else None,
    )


def _passes_filters(match: Match, query: CustomerQuery, today: date) -> bool:
    """Whether ``match`` is in the query's month and of its amount, when it names them."""
    if query.amount is not None and match.total != query.amount:
        return False
    if query.month is not None:
        if match.issued_on is None:
            return False
        year, month = query.month.resolve(today)
        return (match.issued_on.year, match.issued_on.month) == (year, month)
    return True
