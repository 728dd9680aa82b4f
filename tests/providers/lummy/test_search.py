"""LummyClient.search (``GET customers?search=``) against the Lummy emulator over loopback
HTTP, and answers in the shapes its documentation leaves open."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from devkit.emulators import CUSTOMERS_ROUTE, Fault, FaultKind, LummyCustomer, LummyEmulator
from providers.customers import CustomerQuery, SearchKind
from providers.errors import (
    AuthenticationError,
    InvalidRequestError,
    ProviderError,
    ProviderUnavailableError,
    RateLimitedError,
)
from providers.http import HttpOptions
from providers.lummy.client import LummyClient
from providers.lummy.provider import LUMMY
from providers.lummy.search import search_path
from providers.search import Customer, SearchClient
from tests.providers.conftest import LUMMY_API_KEY, LUMMY_ORG_ID

if TYPE_CHECKING:
    from tests.providers.conftest import CannedServer, FakeClock

pytestmark = pytest.mark.timeout(10)

MakeClient = Callable[..., LummyClient]
DEMO = Customer(
    provider="lummy",
    name="Empresa Demo S.A. de C.V.",
    tax_id_type="RFC",
    tax_id="EDE010101AB1",
    provider_id="e7e2abaa-4e70-5162-997a-fa450e8c9942",
    emails=("cliente@empresa.com",),
)


def rfc(value: str) -> CustomerQuery:
    return CustomerQuery(SearchKind.RFC, value)


def name(value: str) -> CustomerQuery:
    return CustomerQuery(SearchKind.NAME, value)


def test_lummy_searches_customers_by_rfc_and_name() -> None:
    assert frozenset({SearchKind.RFC, SearchKind.NAME}) == LUMMY.searches
    assert LUMMY.tax_id is SearchKind.RFC


# -- against the emulator -----------------------------------------------------------


async def test_search_by_rfc_finds_the_customer(
    lummy_emulator: LummyEmulator, lummy_client: LummyClient
) -> None:
    client: SearchClient = lummy_client
    query = rfc("EDE010101AB1")

    result = await client.search(query)

    assert result.customers == (DEMO,)
    assert (result.provider, result.query) == ("lummy", query)
    assert result.lists_invoices is False
    assert result.invoices == ()
    assert result.truncated is False
    [received] = lummy_emulator.requests
    assert (received.method, received.route) == ("GET", CUSTOMERS_ROUTE)
    assert received.header("x-api-key") is not None
    assert received.header("x-organization-id") is not None
    assert lummy_emulator.sends == []


def test_the_query_is_one_first_page_of_twenty() -> None:
    assert search_path(name("Peña & Hijos")) == (
        "customers?search=Pe%C3%B1a+%26+Hijos&page=1&limit=20"
    )
    assert search_path(rfc("EDE010101AB1")) == "customers?search=EDE010101AB1&page=1&limit=20"


async def test_the_search_carries_lummys_authentication(
    canned: CannedServer, make_lummy_client: MakeClient
) -> None:
    canned.reply(200, {"requestId": "r", "data": []})

    await make_lummy_client(canned.base_url).search(name("Peña & Hijos"))

    [received] = canned.requests
    assert (received.method, received.path) == ("GET", "/customers")
    assert received.headers["x-api-key"]
    assert received.headers["x-organization-id"]
    assert received.headers["authorization"].startswith("Bearer ")


async def test_search_by_rfc_keeps_only_that_rfc(
    lummy_emulator: LummyEmulator, lummy_client: LummyClient
) -> None:
    # A person's RFC that holds the company's as a part: the API matches both.
    lummy_emulator.customers["1b7e4d2c-0f3a-4e5b-8c6d-7a8b9c0d1e2f"] = LummyCustomer(
        "1b7e4d2c-0f3a-4e5b-8c6d-7a8b9c0d1e2f", "XAGU150312QW4", "Ximena Aguirre Uribe"
    )

    result = await lummy_client.search(rfc("AGU150312QW4"))

    assert [c.name for c in result.customers] == ["Abarrotes La Guadalupe"]
    assert [c.tax_id for c in result.customers] == ["AGU150312QW4"]


@pytest.mark.parametrize("text", ["monterrey", "CONSTRUCTORA Mont", "cmo9901"])
async def test_search_by_part_of_the_name_ignores_case(
    lummy_client: LummyClient, text: str
) -> None:
    result = await lummy_client.search(name(text))

    assert [(c.name, c.tax_id) for c in result.customers] == [
        ("Constructora Monterrey S.A. de C.V.", "CMO990101KL2")
    ]


async def test_a_name_is_sent_with_its_accents(lummy_client: LummyClient) -> None:
    with_accents = await lummy_client.search(name("María Fernanda"))
    without = await lummy_client.search(name("Maria Fernanda"))

    [person] = with_accents.customers
    assert (person.name, person.tax_id) == ("María Fernanda Peña Ortiz", "PEOF800214K7A")
    # The API matches accents literally (assumed): the bot must send what the agent wrote.
    assert without.customers == ()


@pytest.mark.parametrize("query", [name("Zapatería Inexistente"), rfc("ZZZ991231ZZ9")])
async def test_nothing_found_is_an_empty_result(
    lummy_client: LummyClient, query: CustomerQuery
) -> None:
    result = await lummy_client.search(query)

    assert result.customers == ()
    assert result.invoices == ()
    assert result.lists_invoices is False
    assert result.truncated is False


async def test_a_full_page_is_truncated(
    lummy_emulator: LummyEmulator, lummy_client: LummyClient
) -> None:
    for number in range(25):
        customer_id = f"00000000-0000-4000-8000-{number:012d}"
        lummy_emulator.customers[customer_id] = LummyCustomer(
            customer_id, f"FER2001{number + 1:02d}AB1", f"Ferretería {number}"
        )

    result = await lummy_client.search(name("Ferretería"))

    assert len(result.customers) == 20
    assert result.truncated is True


async def test_another_kind_of_query_asks_nothing(
    lummy_emulator: LummyEmulator, lummy_client: LummyClient
) -> None:
    query = CustomerQuery(SearchKind.EMAIL, "cliente@empresa.com")

    result = await lummy_client.search(query)

    assert result.customers == ()
    assert lummy_emulator.requests == []


# -- failures --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "status"),
    [({"api_key": "lk_wrong"}, 401), ({"organization_id": "another-org"}, 403)],
)
async def test_refused_credentials_are_an_authentication_error(
    lummy_emulator: LummyEmulator,
    make_lummy_client: MakeClient,
    overrides: dict[str, str],
    status: int,
) -> None:
    client = make_lummy_client(lummy_emulator.base_url, **overrides)

    with pytest.raises(AuthenticationError) as info:
        await client.search(rfc("EDE010101AB1"))

    assert info.value.status_code == status
    assert info.value.request_id


@pytest.fixture
async def throttled_emulator(clock: FakeClock) -> AsyncIterator[LummyEmulator]:
    async with LummyEmulator(
        LUMMY_API_KEY, LUMMY_ORG_ID, clock=clock, searches_per_minute=1
    ) as emulator:
        yield emulator


async def test_a_429_is_a_momentary_throttle_with_retry_after(
    throttled_emulator: LummyEmulator, make_lummy_client: MakeClient
) -> None:
    client = make_lummy_client(throttled_emulator.base_url)
    await client.search(name("demo"))

    with pytest.raises(RateLimitedError) as info:
        await client.search(name("demo"))

    assert info.value.retry_after == timedelta(seconds=60)
    assert info.value.throttled is True
    assert info.value.limit_per_hour is None
    assert info.value.request_id


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_a_5xx_is_unavailable(
    lummy_emulator: LummyEmulator, lummy_client: LummyClient, status: int
) -> None:
    lummy_emulator.inject(Fault(FaultKind.SERVER_ERROR, status=status), route=CUSTOMERS_ROUTE)

    with pytest.raises(ProviderUnavailableError) as info:
        await lummy_client.search(name("demo"))

    assert info.value.status_code == status


async def test_a_missing_route_is_the_wrong_endpoint(
    lummy_emulator: LummyEmulator, make_lummy_client: MakeClient
) -> None:
    client = make_lummy_client(f"{lummy_emulator.base_url}/api")

    with pytest.raises(AuthenticationError) as info:
        await client.search(rfc("EDE010101AB1"))

    assert info.value.status_code == 404
    assert info.value.provider_message is not None
    assert info.value.provider_message.startswith("Cannot GET ")
    assert "LUMMY_BASE_URL" in info.value.detail


async def test_a_bad_query_is_an_invalid_request(lummy_client: LummyClient) -> None:
    with pytest.raises(InvalidRequestError) as info:
        await lummy_client.search(name("x" * 101))

    assert info.value.status_code == 400


async def test_a_silent_server_gives_up_in_time(
    lummy_emulator: LummyEmulator, make_lummy_client: MakeClient, hang_options: HttpOptions
) -> None:
    lummy_emulator.inject(Fault(FaultKind.HANG), route=CUSTOMERS_ROUTE)
    client = make_lummy_client(lummy_emulator.base_url, http_options=hang_options)
    started = time.monotonic()

    with pytest.raises(ProviderError):
        await client.search(name("demo"))

    assert time.monotonic() - started < 3


async def test_malformed_json_is_an_empty_result(
    lummy_emulator: LummyEmulator, lummy_client: LummyClient
) -> None:
    lummy_emulator.inject(Fault(FaultKind.MALFORMED_JSON), route=CUSTOMERS_ROUTE)

    assert (await lummy_client.search(name("demo"))).customers == ()


# -- shapes the documentation leaves open ----------------------------------------------


async def test_a_404_in_lummys_envelope_is_nothing_found(
    canned: CannedServer, make_lummy_client: MakeClient
) -> None:
    canned.reply(
        404,
        {
            "requestId": "r",
            "error": {"message": "No customers found", "code": "NotFoundException", "status": 404},
        },
    )

    result = await make_lummy_client(canned.base_url).search(name("demo"))

    assert result.customers == ()
    assert result.lists_invoices is False


async def test_a_404_without_lummys_envelope_is_the_wrong_endpoint(
    canned: CannedServer, make_lummy_client: MakeClient
) -> None:
    canned.reply(404, "<html>Not Found</html>", content_type="text/html")

    with pytest.raises(AuthenticationError):
        await make_lummy_client(canned.base_url).search(name("demo"))


@pytest.mark.parametrize(
    "body",
    [
        {"requestId": "r"},
        {"requestId": "r", "data": None},
        {"requestId": "r", "data": {"customer": {"rfc": "EDE010101AB1"}}},
        {"requestId": "r", "data": "EDE010101AB1"},
        {"requestId": "r", "data": ["EDE010101AB1", 7, None, {}, {"rfc": ""}]},
        ["not", "an", "envelope"],
        "<html>ok</html>",
    ],
)
async def test_an_unknown_shape_is_an_empty_result(
    canned: CannedServer, make_lummy_client: MakeClient, body: object
) -> None:
    canned.reply(200, body)

    result = await make_lummy_client(canned.base_url).search(name("demo"))

    assert result.customers == ()
    assert result.truncated is False


async def test_a_paginated_wrapper_and_other_names_are_read(
    canned: CannedServer, make_lummy_client: MakeClient
) -> None:
    canned.reply(
        200,
        {
            "data": {
                "items": [
                    {"id": 7, "razonSocial": "Tacos El Güero", "emails": ["pagos@tacos.mx"]},
                    {"rfc": "gue850101ab1"},
                ],
                "meta": {"page": 1, "total": 2},
            }
        },
    )

    result = await make_lummy_client(canned.base_url).search(name("güero"))

    assert result.customers == (
        Customer(
            provider="lummy", name="Tacos El Güero", provider_id="7", emails=("pagos@tacos.mx",)
        ),
        Customer(provider="lummy", tax_id_type="RFC", tax_id="GUE850101AB1"),
    )


async def test_a_search_by_rfc_drops_customers_without_one(
    canned: CannedServer, make_lummy_client: MakeClient
) -> None:
    canned.reply(
        200,
        {
            "data": [
                {"id": "a", "legalName": "Sin RFC"},
                {"id": "b", "legalName": "Otro", "rfc": "EDE010101AB2"},
                {"id": "c", "legalName": "Empresa Demo", "rfc": " ede010101ab1 "},
            ]
        },
    )

    result = await make_lummy_client(canned.base_url).search(rfc("EDE010101AB1"))

    assert [c.provider_id for c in result.customers] == ["c"]
    assert result.customers[0].tax_id == "EDE010101AB1"
