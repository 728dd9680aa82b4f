"""Finding invoices from what a customer says: the search capability a provider declares.

A provider whose API can find invoices (or at least customers) from a
`CustomerQuery` lists the `SearchKind`s it answers in `InvoiceProvider.searches`,
and its client is a `SearchClient`. The answer is neutral facts, newest first:
the invoices found (as `InvoiceFacts`, whose ``reference`` the provider's own
parser reads back into a re-send request) and the customers recognised. What a
provider cannot list (Lummy has no documented list of invoices) the bot's history
completes; `SearchResult.lists_invoices` says which is which.
"""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel, ConfigDict

from providers.base import InvoiceFacts, ProviderClient
from providers.customers import CustomerQuery


class Customer(BaseModel):
    """A customer a provider recognised from the query."""

    model_config = ConfigDict(frozen=True)

    provider: str
    name: str | None = None
    #: ``CUIT``, ``RFC``…, as the provider spells it, and the id itself.
    tax_id_type: str | None = None
    tax_id: str | None = None
    #: The provider's own id of the customer, when it has one.
    provider_id: str | None = None
    emails: tuple[str, ...] = ()


class SearchResult(BaseModel):
    """What one provider found for a query."""

    model_config = ConfigDict(frozen=True)

    provider: str
    query: CustomerQuery
    #: Newest first; at most what the provider returned in the pages read.
    invoices: tuple[InvoiceFacts, ...] = ()
    customers: tuple[Customer, ...] = ()
    #: Whether the provider itself lists invoices for this query (else only customers).
    lists_invoices: bool = True
    #: Where it looked, for "nothing found" to say so (``"2"``, ``"3"``: puntos de venta).
    searched_in: tuple[str, ...] = ()
    #: More matches exist than were read (the agent should narrow the search).
    truncated: bool = False


class SearchClient(ProviderClient, Protocol):
    """The client of a provider that declares `InvoiceProvider.searches`."""

    async def search(self, query: CustomerQuery) -> SearchResult:
        """Invoices and customers matching ``query``; sends nothing to anyone.

        Failures are `ProviderError`s (`NotFoundError` is not one: nothing found is an
        empty result). A part of the search that failed while others answered (one punto
        de venta of several) fails the whole search, so nothing is shown as complete
        when it is not.
        """
        ...
