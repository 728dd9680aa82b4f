"""What a search found, as plain data: the matches, the providers that failed, and
where it looked. `bot.search` produces it; the search modal (`bot.ui.search_modal`)
draws it without reaching the service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from providers.base import InvoiceStatus, PaymentStatus
from providers.customers import CustomerQuery
from providers.errors import ProviderError
from providers.search import Customer, SearchResult


@dataclass(frozen=True)
class Match:
    """One invoice a search found, with what is known about it."""

    provider: str
    #: The provider's reference, as its parser reads it back into a re-send request.
    reference: str
    invoice_key: str
    issued_on: date | None = None
    total: Decimal | None = None
    currency: str | None = None
    customer_name: str | None = None
    customer_tax_id: str | None = None
    status: InvoiceStatus | None = None
    payment: PaymentStatus | None = None
    display_number: str | None = None
    recipients: tuple[str, ...] = ()
    #: From the history: the last re-send of it, who asked and when.
    last_sent_by: str | None = None
    last_sent_at: datetime | None = None

    @property
    def newest_first(self) -> tuple[date, datetime]:
        """The sort key: issue date, then the last re-send."""
        sent = self.last_sent_at or datetime.min
        return (self.issued_on or (sent.date() if self.last_sent_at else date.min), sent)


@dataclass(frozen=True)
class ProviderFailure:
    """A provider whose search failed or did not answer in time."""

    provider: str
    error: ProviderError | None = None

    @property
    def timed_out(self) -> bool:
        """It did not answer in time (no error to tell)."""
        return self.error is None


@dataclass(frozen=True)
class SearchOutcome:
    """What a search found, and where it looked, for the modal to tell."""

    query: CustomerQuery
    #: The provider searched in; None: every one that could, and the history.
    provider: str | None
    matches: tuple[Match, ...] = ()
    #: More matches than `SHOWN`: the agent should narrow the search.
    more: bool = False
    customers: tuple[Customer, ...] = ()
    #: The providers asked, with where each looked (puntos de venta).
    searched: tuple[SearchResult, ...] = ()
    failures: tuple[ProviderFailure, ...] = ()
    #: The history could not answer.
    history_unavailable: bool = False

    @property
    def without_invoice_lists(self) -> tuple[str, ...]:
        """Providers that recognised customers but list no invoices (Lummy)."""
        return tuple(r.provider for r in self.searched if not r.lists_invoices)
