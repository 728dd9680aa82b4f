"""Finding Lummy customers from what the customer says: ``GET customers?search=``.

Lummy documents a customer search by RFC or razón social (partial, case-insensitive)
answering ``{requestId, data: [{id, rfc, legalName, fiscalRegime, fiscalZipCode, …}]}``,
and no list of invoices by customer, folio or date. So a search resolves customers
only (`SearchResult.lists_invoices` is False) and reads one page of
`SEARCH_PAGE_SIZE`; a full page means there may be more (``truncated``).

What the documentation leaves open is read tolerantly: the list may also sit under
``data.items`` or ``data.data`` (a paginated wrapper); a legal name may be called
``name``, ``razonSocial`` or ``businessName``; an item that is not an object, or
names nothing, is skipped; any other shape is an empty result. The API matches
accents literally (as far as anyone can tell), so a name is sent as the agent wrote it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final
from urllib.parse import urlencode

from providers.customers import CustomerQuery, SearchKind
from providers.lummy.model import KEY
from providers.parsing import email_list, text_value
from providers.search import Customer, SearchResult

#: What Lummy's search goes by; a search by anything else asks nothing.
LUMMY_SEARCHES: Final = frozenset({SearchKind.RFC, SearchKind.NAME})
#: Customers read per search (one page).
SEARCH_PAGE_SIZE: Final = 20

_NAMES: Final = ("legalName", "name", "razonSocial", "businessName")


def search_path(query: CustomerQuery) -> str:
    """The path and query string of the first page of customers matching ``query``."""
    params = {"search": query.value, "page": 1, "limit": SEARCH_PAGE_SIZE}
    return "customers?" + urlencode(params)


def empty_result(query: CustomerQuery) -> SearchResult:
    """Nothing found."""
    return SearchResult(provider=KEY, query=query, lists_invoices=False)


def search_result(query: CustomerQuery, envelope: Mapping[str, Any] | None) -> SearchResult:
    """The customers of a successful answer; for an RFC, only those with exactly that RFC."""
    items = _items(envelope.get("data") if envelope else None)
    customers = (customer for customer in map(_customer, items) if customer is not None)
    if query.kind is SearchKind.RFC:
        customers = (c for c in customers if (c.tax_id or "").upper() == query.value.upper())
    return SearchResult(
        provider=KEY,
        query=query,
        customers=tuple(customers),
        lists_invoices=False,
        truncated=len(items) >= SEARCH_PAGE_SIZE,
    )


def _items(data: object) -> Sequence[object]:
    if isinstance(data, Mapping):
        data = next(
            (data[name] for name in ("items", "data") if isinstance(data.get(name), list)), None
        )
    return data if isinstance(data, list) else ()


def _customer(item: object) -> Customer | None:
    if not isinstance(item, Mapping):
        return None
    name = next((text for key in _NAMES if (text := text_value(item.get(key)))), None)
    rfc = text_value(item.get("rfc"))
    provider_id = text_value(item.get("id"))
    if name is None and rfc is None and provider_id is None:
        return None
    return Customer(
        provider=KEY,
        name=name,
        tax_id_type="RFC" if rfc else None,
        tax_id=rfc.upper() if rfc else None,
        provider_id=provider_id,
        emails=email_list(item.get("email")) or email_list(item.get("emails")),
    )
