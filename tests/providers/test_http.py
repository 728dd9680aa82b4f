"""The shared HTTP layer: backoff, Retry-After, the retry loop and the transport mapping."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import TYPE_CHECKING

import httpx
import pytest
import structlog
from hypothesis import given
from hypothesis import strategies as st

from providers.errors import (
    AuthenticationError,
    InvalidRequestError,
    NotFoundError,
    OutcomeUnknownError,
    ProviderError,
    ProviderUnavailableError,
    RateLimitedError,
    RejectedError,
)
from providers.http import (
    HttpOptions,
    HttpProviderClient,
    error_for_status,
    json_object,
    retry_after,
)

if TYPE_CHECKING:
    from tests.providers.conftest import CannedServer, Closing

pytestmark = pytest.mark.timeout(10)


@dataclass(frozen=True)
class Endpoint:
    base_url: str


class ProbeClient(HttpProviderClient[Endpoint]):
    """The bare HTTP layer, with a provider to name in errors."""

    provider = "lummy"

    async def post(self, *, retry_server_errors: bool = False) -> httpx.Response:
        return await self._post(
            "probe",
            json={"hola": "mundo"},
            headers={"x-test": "1"},
            retry_server_errors=retry_server_errors,
        )


@pytest.fixture
def make_probe(options: HttpOptions, closing: Closing) -> Callable[..., ProbeClient]:
    def make(base_url: str, http_options: HttpOptions | None = None) -> ProbeClient:
        return closing(ProbeClient(Endpoint(base_url), http_options or options))

    return make


def response(
    status: int, headers: dict[str, str] | None = None, **kwargs: object
) -> httpx.Response:
    return httpx.Response(status, headers=headers, **kwargs)  # type: ignore[arg-type]


# -- HttpOptions.backoff ------------------------------------------------------------


@given(
    base=st.floats(min_value=0, max_value=10, allow_nan=False),
    cap=st.floats(min_value=0, max_value=60, allow_nan=False),
    attempt=st.integers(min_value=1, max_value=40),
)
def test_backoff_stays_within_full_jitter_bounds(base: float, cap: float, attempt: int) -> None:
    delay = HttpOptions(retry_backoff=base, max_backoff=cap).backoff(attempt)

    assert 0 <= delay <= min(cap, base * 2 ** (attempt - 1))


def test_backoff_is_jittered_and_grows_until_the_cap() -> None:
    opts = HttpOptions(retry_backoff=0.5, max_backoff=8.0)

    first = [opts.backoff(1) for _ in range(300)]
    third = [opts.backoff(3) for _ in range(300)]
    tenth = [opts.backoff(10) for _ in range(300)]

    assert len(set(first)) > 100  # jitter, not a constant
    assert max(first) <= 0.5 < max(third) <= 2.0
    assert 4.0 < max(tenth) <= 8.0  # capped by max_backoff


def test_zero_backoff_means_no_wait() -> None:
    assert HttpOptions(retry_backoff=0).backoff(5) == 0


def test_timeouts_map_onto_httpx() -> None:
    timeout = HttpOptions(connect_timeout=0.5, read_timeout=3.0).timeout()

    # A burst waits for a pooled connection as long as a slow answer may take.
    assert (timeout.connect, timeout.read, timeout.write, timeout.pool) == (0.5, 3.0, 3.0, 3.0)


# -- retry_after ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", timedelta(seconds=120)),
        ("0", timedelta(0)),
        ("1.5", timedelta(seconds=1.5)),
        (" 30 ", timedelta(seconds=30)),
        ("86399", timedelta(seconds=86399)),
    ],
)
def test_retry_after_seconds(value: str, expected: timedelta) -> None:
    assert retry_after(response(429, {"Retry-After": value})) == expected


@pytest.mark.parametrize(
    "value",
    ["", "soon", "tomorrow at noon", "12abc", "nan", "inf", "86400", "1e12", "Mon, 99 Foo 2025"],
)
def test_retry_after_ignores_garbage_and_absurd_values(value: str) -> None:
    assert retry_after(response(429, {"Retry-After": value})) is None


def test_retry_after_absent() -> None:
    assert retry_after(response(429)) is None


def test_retry_after_negative_is_never_a_negative_wait() -> None:
    parsed = retry_after(response(429, {"Retry-After": "-5"}))

    assert parsed is None or parsed == timedelta(0)


def test_retry_after_http_date_in_the_future() -> None:
    when = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=90)

    parsed = retry_after(response(429, {"Retry-After": format_datetime(when, usegmt=True)}))

    assert parsed is not None
    assert timedelta(seconds=85) <= parsed <= timedelta(seconds=90)


def test_retry_after_http_date_with_unknown_zone_is_utc() -> None:
    when = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=10)
    header = when.strftime("%a, %d %b %Y %H:%M:%S -0000")  # "-0000": naive after parsing

    parsed = retry_after(response(429, {"Retry-After": header}))

    assert parsed is not None
    assert timedelta(seconds=590) <= parsed <= timedelta(seconds=600)


def test_retry_after_http_date_in_the_past_is_now() -> None:
    header = "Wed, 21 Oct 2015 07:28:00 GMT"

    assert retry_after(response(429, {"Retry-After": header})) == timedelta(0)


# -- error_for_status -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (400, InvalidRequestError),
        (401, AuthenticationError),
        (403, AuthenticationError),
        (404, NotFoundError),
        (409, RejectedError),
        (422, InvalidRequestError),
        (429, RateLimitedError),
        (500, ProviderUnavailableError),
        (502, ProviderUnavailableError),
        (503, ProviderUnavailableError),
        (504, ProviderUnavailableError),
    ],
)
def test_error_for_status_table(status: int, error_type: type[ProviderError]) -> None:
    error = error_for_status(
        "lummy", response(status), message="Algo", code="Code", request_id="r-1"
    )

    assert type(error) is error_type
    assert error.status_code == status
    assert error.request_id == "r-1"
    assert error.provider_message == "Algo"
    assert error.detail == f"HTTP {status} Code: Algo"


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_redirect_is_a_misconfigured_base_url(status: int) -> None:
    answer = response(status, {"Location": "https://www.tusfacturas.app/app/api/v2/x"})

    error = error_for_status("tusfacturas", answer)

    assert type(error) is AuthenticationError
    assert error.status_code == status
    assert "https://www.tusfacturas.app/app/api/v2/x" in error.detail


@pytest.mark.parametrize("status", [404, 405])
def test_a_wrong_endpoint_names_the_base_url_variable(status: int) -> None:
    error = error_for_status(
        "lummy", response(status), message="Cannot POST /x", request_id="r-1", wrong_endpoint=True
    )

    assert type(error) is AuthenticationError
    assert error.detail == f"HTTP {status} from the endpoint; check LUMMY_BASE_URL"
    assert (error.status_code, error.request_id) == (status, "r-1")
    assert error.provider_message == "Cannot POST /x"


def test_error_for_status_carries_the_specific_fields() -> None:
    limited = error_for_status("lummy", response(429, {"Retry-After": "60"}), limit_per_hour=10)
    invalid = error_for_status("lummy", response(400), invalid_field="email")
    rejected = error_for_status("lummy", response(409), message="Ya enviada", code="C-1")

    assert isinstance(limited, RateLimitedError)
    assert (limited.limit_per_hour, limited.retry_after) == (10, timedelta(seconds=60))
    assert isinstance(invalid, InvalidRequestError)
    assert invalid.field == "email"
    assert isinstance(rejected, RejectedError)
    assert (rejected.messages, rejected.codes) == (("Ya enviada",), ("C-1",))


def test_json_object_only_accepts_objects() -> None:
    assert json_object(response(200, json={"a": 1})) == {"a": 1}
    assert json_object(response(200, json=[1])) is None
    assert json_object(response(200, content=b"{nope")) is None
    assert json_object(response(200, content=b"")) is None


# -- the retry loop over loopback ---------------------------------------------------------


async def test_request_carries_default_and_given_headers(
    canned: CannedServer, make_probe: Callable[..., ProbeClient]
) -> None:
    await make_probe(canned.base_url + "/base/").post()

    [received] = canned.requests
    assert received.path == "/base/probe"
    assert received.headers["user-agent"] == "reenviar-bot"
    assert received.headers["accept"] == "application/json"
    assert received.headers["x-test"] == "1"
    assert received.json == {"hola": "mundo"}


async def test_server_errors_are_not_retried_by_default(
    canned: CannedServer, make_probe: Callable[..., ProbeClient]
) -> None:
    canned.reply(503, "down")

    answer = await make_probe(canned.base_url).post()

    assert answer.status_code == 503
    assert len(canned.requests) == 1


async def test_server_errors_are_retried_when_asked_then_returned(
    canned: CannedServer, make_probe: Callable[..., ProbeClient], options: HttpOptions
) -> None:
    canned.reply(502, "down")

    with structlog.testing.capture_logs() as logs:
        answer = await make_probe(canned.base_url).post(retry_server_errors=True)

    assert answer.status_code == 502
    assert len(canned.requests) == options.max_retries + 1
    retries = [e for e in logs if e["event"] == "provider_retry"]
    assert [e["attempt"] for e in retries] == [1, 2]
    ceilings = [options.retry_backoff * 2 ** (n - 1) * 1000 for n in (1, 2)]
    assert all(0 <= e["delay_ms"] <= c + 1 for e, c in zip(retries, ceilings, strict=True))


async def test_server_error_then_success(
    canned: CannedServer, make_probe: Callable[..., ProbeClient]
) -> None:
    canned.reply(500, "down")
    canned.reply(200, {"ok": True})

    answer = await make_probe(canned.base_url).post(retry_server_errors=True)

    assert answer.status_code == 200
    assert len(canned.requests) == 2


@pytest.mark.parametrize("status", [400, 401, 404, 409, 429])
async def test_client_errors_are_never_retried(
    canned: CannedServer, make_probe: Callable[..., ProbeClient], status: int
) -> None:
    canned.reply(status, "no")

    answer = await make_probe(canned.base_url).post(retry_server_errors=True)

    assert answer.status_code == status
    assert len(canned.requests) == 1


async def test_read_timeout_is_outcome_unknown_and_never_retried(
    canned: CannedServer, make_probe: Callable[..., ProbeClient], hang_options: HttpOptions
) -> None:
    canned.reply(200, {}, delay=5)

    with pytest.raises(OutcomeUnknownError) as caught:
        await make_probe(canned.base_url, hang_options).post(retry_server_errors=True)

    assert "ReadTimeout" in caught.value.detail
    assert len(canned.requests) == 1


@pytest.mark.parametrize("max_retries", [0, 1, 3])
async def test_connection_refused_is_retried_max_retries_times(
    closed_port: int, make_probe: Callable[..., ProbeClient], max_retries: int
) -> None:
    opts = HttpOptions(
        connect_timeout=0.5, read_timeout=0.5, max_retries=max_retries, retry_backoff=0.01
    )

    with structlog.testing.capture_logs() as logs, pytest.raises(ProviderUnavailableError) as e:
        await make_probe(f"http://127.0.0.1:{closed_port}", opts).post()

    assert f"after {max_retries + 1} attempts" in e.value.detail
    assert "ConnectError" in e.value.detail
    assert isinstance(e.value.__cause__, httpx.ConnectError)
    assert len([entry for entry in logs if entry["event"] == "provider_retry"]) == max_retries


async def test_a_burst_waits_for_a_free_connection_instead_of_failing(
    canned: CannedServer, make_probe: Callable[..., ProbeClient]
) -> None:
    # One connection, held by a slow request: the second waits for it, then goes out.
    opts = HttpOptions(
        connect_timeout=0.1, read_timeout=2.0, max_retries=0, retry_backoff=0.01, max_connections=1
    )
    canned.reply(200, {}, delay=0.5)
    client = make_probe(canned.base_url, opts)
    busy = asyncio.create_task(client.post())
    await asyncio.wait_for(canned.arrived.wait(), timeout=1)
    second = await asyncio.wait_for(client.post(), timeout=3)
    first = await asyncio.wait_for(busy, timeout=3)

    assert first.status_code == second.status_code == 200
    assert len(canned.requests) == 2


@pytest.mark.parametrize("url", ["ftp://127.0.0.1:9/api", "127.0.0.1:9/api"])
async def test_unusable_base_url_is_a_misconfiguration(
    make_probe: Callable[..., ProbeClient], url: str
) -> None:
    with pytest.raises(AuthenticationError) as caught:
        await make_probe(url).post()

    assert "misconfigured" in caught.value.detail
