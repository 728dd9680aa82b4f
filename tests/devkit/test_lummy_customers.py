"""The Lummy emulator's customers: ``GET /customers`` and ``GET /customers/{id}`` over
loopback HTTP, their seeds, refusals, throttle and faults."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from devkit.emulators import (
    CUSTOMER_ROUTE,
    CUSTOMERS_ROUTE,
    DEFAULT_LUMMY_CUSTOMERS,
    DEFAULT_LUMMY_INVOICE_CUSTOMERS,
    DEFAULT_LUMMY_INVOICES,
    LOOKUP_ROUTE,
    Fault,
    FaultKind,
    LummyCustomer,
    LummyEmulator,
    is_valid_rfc,
)

pytestmark = pytest.mark.timeout(10)

API_KEY = "lk_test_123"
ORG_ID = "0b7c6f1e-3d2a-4c5b-9e8f-1a2b3c4d5e6f"
HEADERS = {"Authorization": f"Bearer {API_KEY}", "x-organization-id": ORG_ID, "x-api-key": API_KEY}
SEED_ID = "550e8400-e29b-41d4-a716-446655440000"
NO_DETAILS_ID = "c1a9e2f4-6b3d-4c8e-a7f5-0e1d2c3b4a59"
DEMO_CUSTOMER = "e7e2abaa-4e70-5162-997a-fa450e8c9942"
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


class FakeClock:
    def __init__(self) -> None:
        self.current = datetime(2025, 1, 20, 10, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.current


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=2.0, headers=HEADERS) as http:
        yield http


@pytest.fixture
async def lummy(clock: FakeClock) -> AsyncIterator[LummyEmulator]:
    async with LummyEmulator(API_KEY, ORG_ID, clock=clock) as emulator:
        yield emulator


async def search(lummy: LummyEmulator, client: httpx.AsyncClient, **params: Any) -> httpx.Response:
    return await client.get(f"{lummy.base_url}/customers", params=params)


def names(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [customer["legalName"] for customer in response.json()["data"]]


# -- seeds ---------------------------------------------------------------------------


def test_seeded_customers_have_valid_rfcs_of_companies_and_people() -> None:
    customers = list(DEFAULT_LUMMY_CUSTOMERS.values())

    assert all(is_valid_rfc(customer.rfc) for customer in customers)
    assert {len(customer.rfc) for customer in customers} == {12, 13}
    assert all(len(c.rfc) == (13 if c.is_person else 12) for c in customers)
    assert len({customer.rfc for customer in customers}) == len(customers)


def test_every_seeded_invoice_is_linked_to_a_seeded_customer() -> None:
    assert set(DEFAULT_LUMMY_INVOICE_CUSTOMERS) == set(DEFAULT_LUMMY_INVOICES)
    for invoice_id, customer_id in DEFAULT_LUMMY_INVOICE_CUSTOMERS.items():
        assert DEFAULT_LUMMY_CUSTOMERS[customer_id].email == DEFAULT_LUMMY_INVOICES[invoice_id]


@pytest.mark.parametrize(
    ("rfc", "valid"),
    [
        ("EDE010101AB1", True),
        ("PEOF800214K7A", True),
        ("ÑLO050830TR6", True),
        ("A&B000229XY1", True),  # 29 February 2000
        ("ABC010229XY1", False),  # no 29 February in 1901 or 2001
        ("EDE011301AB1", False),  # month 13
        ("EDE010100AB1", False),  # day 0
        ("ede010101ab1", False),
        ("ED010101AB1", False),
        ("EDE010101AB", False),
        ("EDEF0101011AB1", False),
    ],
)
def test_rfc_validity(rfc: str, valid: bool) -> None:
    assert is_valid_rfc(rfc) is valid


def test_a_customer_with_an_invalid_rfc_cannot_be_made() -> None:
    with pytest.raises(ValueError, match="RFC"):
        LummyCustomer(UNKNOWN_ID, "EDE019999AB1", "Empresa")


# -- the search ------------------------------------------------------------------------


async def test_search_matches_part_of_the_name_or_rfc_ignoring_case(
    lummy: LummyEmulator, client: httpx.AsyncClient
) -> None:
    by_name = await search(lummy, client, search="GUADALUPE", page=1, limit=20)
    by_rfc = await search(lummy, client, search="cmo99")
    with_enye = await search(lummy, client, search="ñandú")
    everyone = await search(lummy, client)

    assert names(by_name) == ["Abarrotes La Guadalupe"]
    assert by_name.json()["data"][0]["rfc"] == "AGU150312QW4"
    assert names(by_rfc) == ["Constructora Monterrey S.A. de C.V."]
    assert names(with_enye) == ["Ñandú Logística S.A. de C.V."]
    assert len(names(everyone)) == len(DEFAULT_LUMMY_CUSTOMERS)
    assert {r.route for r in lummy.requests} == {CUSTOMERS_ROUTE}
    assert lummy.sends == []


async def test_search_matches_accents_literally(
    lummy: LummyEmulator, client: httpx.AsyncClient
) -> None:
    assert names(await search(lummy, client, search="maría fernanda")) == [
        "María Fernanda Peña Ortiz"
    ]
    assert names(await search(lummy, client, search="maria fernanda")) == []
    assert names(await search(lummy, client, search="logistica")) == []


async def test_search_answers_the_envelope_and_pages(
    lummy: LummyEmulator, client: httpx.AsyncClient
) -> None:
    first = await search(lummy, client, search="s.a. de c.v.", limit=2)
    second = await search(lummy, client, search="s.a. de c.v.", limit=2, page=2)
    beyond = await search(lummy, client, search="s.a. de c.v.", limit=2, page=3)

    body = first.json()
    assert (body["path"], body["method"]) == ("/customers", "GET")
    assert body["requestId"] == first.headers["x-request-id"]
    assert names(first) == ["Empresa Demo S.A. de C.V.", "Constructora Monterrey S.A. de C.V."]
    assert names(second) == ["Ñandú Logística S.A. de C.V."]
    assert names(beyond) == []
    assert set(body["data"][0]) == {
        "id",
        "rfc",
        "legalName",
        "fiscalRegime",
        "fiscalZipCode",
        "email",
    }


async def test_customers_added_at_runtime_are_found(
    lummy: LummyEmulator, client: httpx.AsyncClient
) -> None:
    lummy.customers[UNKNOWN_ID] = LummyCustomer(UNKNOWN_ID, "TEL210615AB3", "Tlapalería El Clavo")

    assert names(await search(lummy, client, search="clavo")) == ["Tlapalería El Clavo"]


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "abc"},
        {"limit": "0"},
        {"limit": "-1"},
        {"limit": "101"},
        {"limit": "²"},
        {"page": "0"},
        {"page": "1.5"},
        {"search": "x" * 101},
    ],
)
async def test_search_refuses_a_bad_query_in_the_error_envelope(
    lummy: LummyEmulator, client: httpx.AsyncClient, params: dict[str, str]
) -> None:
    response = await search(lummy, client, **params)

    assert response.status_code == 400
    body = response.json()
    assert body["error"]["code"] == "ValidationError"
    assert body["error"]["status"] == 400
    assert body["requestId"] == response.headers["x-request-id"]
    assert body["path"] == "/customers"


@pytest.mark.parametrize("path", ["customers", f"customers/{DEMO_CUSTOMER}"])
@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"x-api-key": ""}, 401),
        ({"Authorization": "Bearer nope"}, 401),
        ({"x-organization-id": "other"}, 403),
    ],
)
async def test_both_routes_authenticate_like_the_others(
    lummy: LummyEmulator,
    client: httpx.AsyncClient,
    path: str,
    headers: dict[str, str],
    status: int,
) -> None:
    response = await client.get(f"{lummy.base_url}/{path}", headers=headers)

    assert response.status_code == status
    assert response.json()["error"]["status"] == status
    assert response.json()["requestId"]


async def test_searches_are_throttled_per_minute(clock: FakeClock) -> None:
    async with (
        LummyEmulator(API_KEY, ORG_ID, clock=clock, searches_per_minute=2) as lummy,
        httpx.AsyncClient(timeout=2.0, headers=HEADERS) as client,
    ):
        assert (await search(lummy, client)).status_code == 200
        clock.current += timedelta(seconds=15)
        assert (await search(lummy, client)).status_code == 200
        limited = await search(lummy, client)
        clock.current += timedelta(seconds=46)
        after = await search(lummy, client)

    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "45"
    assert limited.json()["error"]["code"] == "TooManyRequestsException"
    assert after.status_code == 200


# -- one customer ----------------------------------------------------------------------


async def test_one_customer_by_id(lummy: LummyEmulator, client: httpx.AsyncClient) -> None:
    response = await client.get(f"{lummy.base_url}/customers/{DEMO_CUSTOMER.upper()}")

    assert response.status_code == 200
    assert response.json()["data"] == DEFAULT_LUMMY_CUSTOMERS[DEMO_CUSTOMER].record()
    assert response.json()["path"] == f"/customers/{DEMO_CUSTOMER.upper()}"
    assert lummy.requests[0].route == CUSTOMER_ROUTE


@pytest.mark.parametrize(
    ("customer_id", "status", "code"),
    [
        (UNKNOWN_ID, 404, "NotFoundException"),
        ("not-a-uuid", 400, "ValidationError"),
    ],
)
async def test_an_unknown_customer_is_refused_in_the_envelope(
    lummy: LummyEmulator, client: httpx.AsyncClient, customer_id: str, status: int, code: str
) -> None:
    response = await client.get(f"{lummy.base_url}/customers/{customer_id}")

    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert not response.json()["error"]["message"].startswith("Cannot ")


async def test_a_missing_route_under_customers_is_cannot_get(
    lummy: LummyEmulator, client: httpx.AsyncClient
) -> None:
    nested = await client.get(f"{lummy.base_url}/customers/{DEMO_CUSTOMER}/invoices")
    posted = await client.post(f"{lummy.base_url}/customers", json={})

    assert nested.status_code == 404
    assert nested.json()["error"]["message"].startswith("Cannot GET ")
    assert posted.status_code == 405
    assert lummy.requests[0].route is None


async def test_the_lookup_names_the_customer_of_the_invoice(
    lummy: LummyEmulator, client: httpx.AsyncClient
) -> None:
    detailed = (await client.get(f"{lummy.base_url}/invoices/{SEED_ID}")).json()["data"]
    bare = (await client.get(f"{lummy.base_url}/invoices/{NO_DETAILS_ID}")).json()["data"]
    named = await client.get(f"{lummy.base_url}/customers/{detailed['customer']['id']}")

    assert detailed["customer"]["id"] == DEMO_CUSTOMER
    assert named.json()["data"]["rfc"] == detailed["customer"]["rfc"] == "EDE010101AB1"
    assert bare["customer"] == {
        "id": DEFAULT_LUMMY_INVOICE_CUSTOMERS[NO_DETAILS_ID],
        "email": "contabilidad@cafeteriaelportal.com.mx",
    }
    assert [r.route for r in lummy.requests] == [LOOKUP_ROUTE, LOOKUP_ROUTE, CUSTOMER_ROUTE]


# -- faults ----------------------------------------------------------------------------


async def test_faults_aim_at_the_search_alone_or_one_search_text(
    lummy: LummyEmulator, client: httpx.AsyncClient
) -> None:
    lummy.inject(Fault(FaultKind.SERVER_ERROR, times=1), route=CUSTOMERS_ROUTE)
    lummy.inject(Fault(FaultKind.SERVER_ERROR, status=502), key="Guadalupe", route=CUSTOMERS_ROUTE)

    first = await search(lummy, client, search="demo")
    lookup = await client.get(f"{lummy.base_url}/invoices/{SEED_ID}")
    keyed = await search(lummy, client, search=" guadalupe ")
    other = await search(lummy, client, search="demo")

    assert first.status_code == 503
    assert first.headers["content-type"].startswith("text/html")
    assert lookup.status_code == 200
    assert keyed.status_code == 502
    assert names(other) == ["Empresa Demo S.A. de C.V."]


async def test_faults_on_one_customer_are_keyed_by_its_id(
    lummy: LummyEmulator, client: httpx.AsyncClient
) -> None:
    lummy.inject(Fault(FaultKind.MALFORMED_JSON), key=DEMO_CUSTOMER.upper(), route=CUSTOMER_ROUTE)
    other_id = DEFAULT_LUMMY_INVOICE_CUSTOMERS[NO_DETAILS_ID]

    faulty = await client.get(f"{lummy.base_url}/customers/{DEMO_CUSTOMER}")
    fine = await client.get(f"{lummy.base_url}/customers/{other_id}")
    searched = await search(lummy, client, search="demo")

    assert faulty.status_code == 200
    assert faulty.content == lummy.malformed_json_body
    assert fine.json()["data"]["id"] == other_id
    assert names(searched) == ["Empresa Demo S.A. de C.V."]
