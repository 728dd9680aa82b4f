"""The customers the Lummy emulator knows, and how ``GET /customers`` reads its query.

Every customer has a valid RFC: three letters (a company, 12 characters) or four (a
person, 13), a real date in ``YYMMDD``, and a three-character homoclave. The seeded
invoices are linked to the seeded customers (`DEFAULT_LUMMY_INVOICE_CUSTOMERS`).

The search matches part of the RFC or of the legal name, ignoring case (Unicode case
folding, so ``ñ`` finds ``Ñ``) but not accents: ``cafeteria`` does not find
``Cafetería``. That is what a plain ``ILIKE '%…%'`` does, which is the likeliest
behaviour of the real API; a bot that wants accent-insensitive matching must send
the accents the customer wrote.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import Final

#: Results per page when ``limit`` is not given, and the most one page may hold.
DEFAULT_LIMIT: Final = 20
MAX_LIMIT: Final = 100
#: The longest ``search`` accepted.
MAX_SEARCH_LENGTH: Final = 100

_RFC: Final = re.compile(r"[A-ZÑ&]{3,4}([0-9]{2})([0-9]{2})([0-9]{2})[A-Z0-9]{3}")


def is_valid_rfc(rfc: str) -> bool:
    """Whether ``rfc`` is shaped like a Mexican RFC, with a date that exists."""
    match = _RFC.fullmatch(rfc)
    if match is None:
        return False
    year, month, day = (int(part) for part in match.groups())
    for century in (1900, 2000):
        try:
            date(century + year, month, day)
        except ValueError:
            continue
        return True
    return False


@dataclass(frozen=True, slots=True)
class LummyCustomer:
    """One customer as ``GET /customers`` lists it."""

    id: str
    rfc: str
    legal_name: str
    email: str | None = None
    #: SAT regime: 601 general (companies), 612 business activities (people).
    fiscal_regime: str = "601"
    fiscal_zip_code: str = "06600"

    def __post_init__(self) -> None:
        if not is_valid_rfc(self.rfc):
            raise ValueError(f"not a valid RFC: {self.rfc!r}")

    @property
    def is_person(self) -> bool:
        """A person (13-character RFC) rather than a company (12)."""
        return len(self.rfc) == 13

    def matches(self, search: str) -> bool:
        """Part of the RFC or legal name, case-insensitive, accents literal."""
        folded = search.casefold()
        return folded in self.rfc.casefold() or folded in self.legal_name.casefold()

    def record(self) -> dict[str, str | None]:
        """The customer as the API answers it."""
        return {
            "id": self.id,
            "rfc": self.rfc,
            "legalName": self.legal_name,
            "fiscalRegime": self.fiscal_regime,
            "fiscalZipCode": self.fiscal_zip_code,
            "email": self.email,
        }


def _seed(*customers: LummyCustomer) -> Mapping[str, LummyCustomer]:
    return MappingProxyType({customer.id: customer for customer in customers})


#: The customers the emulator knows when none are given, by id.
DEFAULT_LUMMY_CUSTOMERS: Final[Mapping[str, LummyCustomer]] = _seed(
    LummyCustomer(
        "e7e2abaa-4e70-5162-997a-fa450e8c9942",
        "EDE010101AB1",
        "Empresa Demo S.A. de C.V.",
        "cliente@empresa.com",
    ),
    LummyCustomer(
        "ccbd837e-508c-582c-a94a-684fd99faa9f",
        "AGU150312QW4",
        "Abarrotes La Guadalupe",
        "facturacion@abarroteslaguadalupe.com.mx",
    ),
    LummyCustomer(
        "d44a38ae-25c3-5b89-b624-0ece16c47f6b",
        "CMO990101KL2",
        "Constructora Monterrey S.A. de C.V.",
        "cuentasporpagar@constructoramonterrey.mx",
        fiscal_zip_code="64000",
    ),
    # A person: the owner of Cafetería El Portal invoices under her own RFC.
    LummyCustomer(
        "4e11fb52-035c-5377-bfe7-b624a7e50cce",
        "PEOF800214K7A",
        "María Fernanda Peña Ortiz",
        "contabilidad@cafeteriaelportal.com.mx",
        fiscal_regime="612",
        fiscal_zip_code="44100",
    ),
    # A customer with no invoice yet, and an Ñ in its RFC.
    LummyCustomer(
        "f051983a-85a6-51d5-a5d0-8fd9ac848e8a",
        "ÑLO050830TR6",
        "Ñandú Logística S.A. de C.V.",
        "pagos@nandulogistica.mx",
    ),
)

#: Which customer each seeded invoice was issued to: invoice id -> customer id.
DEFAULT_LUMMY_INVOICE_CUSTOMERS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "550e8400-e29b-41d4-a716-446655440000": "e7e2abaa-4e70-5162-997a-fa450e8c9942",
        "3f2b8c1e-7a4d-4e9b-9c61-2d5f0a8b7e13": "ccbd837e-508c-582c-a94a-684fd99faa9f",
        "9d7e6c5b-1a2f-4b3c-8d4e-5f6a7b8c9d0e": "d44a38ae-25c3-5b89-b624-0ece16c47f6b",
        "c1a9e2f4-6b3d-4c8e-a7f5-0e1d2c3b4a59": "4e11fb52-035c-5377-bfe7-b624a7e50cce",
    }
)


class InvalidQueryError(ValueError):
    """A query parameter the API refuses (a 400); the message is the API's."""


@dataclass(frozen=True, slots=True)
class CustomerListing:
    """What ``GET /customers`` was asked: the search text and the page."""

    search: str
    page: int
    limit: int

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> CustomerListing:
        """Read ``search``, ``page`` (from 1) and ``limit`` (1..`MAX_LIMIT`)."""
        search = query.get("search", "").strip()
        if len(search) > MAX_SEARCH_LENGTH:
            raise InvalidQueryError(f"search debe tener como maximo {MAX_SEARCH_LENGTH} caracteres")
        page = _positive(query.get("page", "1"), "page")
        limit = _positive(query.get("limit", str(DEFAULT_LIMIT)), "limit")
        if limit > MAX_LIMIT:
            raise InvalidQueryError(f"limit debe ser a lo sumo {MAX_LIMIT}")
        return cls(search, page, limit)

    def page_of(self, customers: Iterable[LummyCustomer]) -> list[LummyCustomer]:
        """The matching customers on the asked page, in the order given."""
        found = [customer for customer in customers if customer.matches(self.search)]
        return found[(self.page - 1) * self.limit : self.page * self.limit]


def _positive(value: str, name: str) -> int:
    """A query parameter that must be a positive integer (``page``, ``limit``)."""
    if not value.isascii() or not value.isdigit() or int(value) < 1:
        raise InvalidQueryError(f"{name} debe ser un entero positivo")
    return int(value)
