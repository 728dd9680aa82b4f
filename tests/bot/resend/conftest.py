"""The re-send decision, wired as `Services.create` wires it, without HTTP or a Slack app.

A real SQLite history in the test's tmp dir; the only stand-in is Slack's Web API
behind the user group directory the access policy asks. The clock is frozen so that
times in the history and in the decision compare exactly.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.config import Settings
from bot.history.failures import StoreUnavailableError
from bot.history.outbox import OUTBOX_NAME, Outbox, decode
from bot.history.records import AttemptRecord, ClaimState
from bot.history.store import HistoryStore
from bot.jobs import ResendJob
from bot.metrics import Metrics
from bot.resend.access import AccessPolicy
from bot.resend.admission import Gatekeeper
from bot.resend.audit import Auditor
from bot.resend.core import ResendCore
from bot.resend.duplicates import DuplicateGuard
from bot.resend.inflight import InFlight
from bot.resend.lookup import InvoiceLookups
from bot.resend.pipeline import ResendPipeline
from bot.resend.recovery import AttemptJournal
from bot.slack.delivery import Delivery
from bot.slack.directory import UsergroupDirectory
from providers.base import ResendRequest
from providers.registry import ConfiguredProviders
from tests.conftest import AGENT, BOT_TOKEN, CHANNEL, REGISTRY, SEED_LUMMY_ID, make_settings

#: The user group the access rules list in the tests that use one.
GROUP = "S0SUPPORT"
#: A channel the rules list instead of `CHANNEL`.
OTHER_CHANNEL = "C0BILLING"
#: How long a stalled Slack lookup takes: far longer than any deadline of the decision.
STALL_SECONDS = 5.0
#: The longest wait for the auditor's background writes.
AUDIT_WAIT = 2.0
#: What the history keeps of refusals and duplicate warnings.
AUDIT_OUTCOMES = frozenset({"refused", "duplicate_warning"})


class SlackStandIn(AsyncWebClient):
    """Slack's Web API as the access checks use it: ``usergroups.users.list`` and nothing
    else (any other call is recorded and fails)."""

    def __init__(self) -> None:
        # Never contacted: every call is answered here.
        super().__init__(token=BOT_TOKEN, base_url="http://127.0.0.1:9/api/")
        self.groups: dict[str, list[str]] = {}
        #: Lookups answer only after `STALL_SECONDS`.
        self.stalled = False
        #: Lookups fail as when Slack cannot be reached.
        self.unreachable = False
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def api_call(
        self,
        api_method: str,
        *,
        http_verb: str = "POST",
        params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> AsyncSlackResponse:
        self.calls.append((api_method, dict(params or {})))
        if api_method != "usergroups.users.list":
            raise AssertionError(f"unexpected Slack call {api_method}")
        if self.stalled:
            await asyncio.sleep(STALL_SECONDS)
        if self.unreachable:
            raise ConnectionRefusedError("Slack is unreachable")
        group = str((params or {}).get("usergroup"))
        return AsyncSlackResponse(
            client=self,
            http_verb=http_verb,
            api_url=f"{self.base_url}{api_method}",
            req_args={"params": params},
            data={"ok": True, "users": list(self.groups.get(group, []))},
            headers={},
            status_code=200,
        )

    def unexpected_calls(self) -> list[str]:
        """Every call other than a user group lookup."""
        return [method for method, _ in self.calls if method != "usergroups.users.list"]


@dataclass
class Decider:
    """The objects behind the re-send decision, as `Services.create` wires them."""

    settings: Settings
    slack: SlackStandIn
    store: HistoryStore
    outbox: Outbox
    inflight: InFlight
    metrics: Metrics
    duplicates: DuplicateGuard
    auditor: Auditor
    gatekeeper: Gatekeeper
    pipeline: ResendPipeline
    core: ResendCore
    providers: ConfiguredProviders
    lookups: InvoiceLookups
    now: datetime
    history_file: Path
    _closers: list[Callable[[], Awaitable[Any]]] = field(default_factory=list, repr=False)

    async def audited(self, invoice_key: str = "") -> list[AttemptRecord]:
        """Refusals and warnings the history holds (for one invoice, or none), oldest first,
        once the auditor's background writes ended (at most `AUDIT_WAIT`)."""
        await self.settle()
        rows = await self.store.history(invoice_key, limit=50)
        return [row for row in reversed(rows) if row.outcome in AUDIT_OUTCOMES]

    async def queued(self) -> list[AttemptRecord]:
        """The rows waiting in the outbox (the store did not take them), oldest first."""
        await self.settle()
        if not self.outbox.path.exists():
            return []
        lines = self.outbox.path.read_bytes().splitlines()
        return [decode(line)[0] for line in lines if line.strip()]

    async def settle(self) -> None:
        """Wait (at most `AUDIT_WAIT`) for the auditor's background writes to end."""
        # A spawned write is counted once it first runs: let it start.
        await asyncio.sleep(0)
        assert await self.inflight.drain(AUDIT_WAIT), "audit writes still running"

    def claims(self) -> list[tuple[str, str, str, str]]:
        """Every claim in the history file: (invoice, attempt, user, state)."""
        with contextlib.closing(sqlite3.connect(self.history_file, timeout=1.0)) as db:
            rows = db.execute(
                "SELECT invoice_key, attempt_id, user_id, state FROM resend_claims"
            ).fetchall()
        return [
            (str(key), str(attempt), str(user), str(state)) for key, attempt, user, state in rows
        ]

    def guard_bypasses(self) -> float:
        """Re-sends let through without the duplicate guard (it could not answer)."""
        value = self.metrics.registry.get_sample_value("reenviar_duplicate_guard_bypasses_total")
        return value or 0.0

    async def aclose(self) -> None:
        for close in reversed(self._closers):
            await close()


Wire = Callable[..., Awaitable[Decider]]


@pytest.fixture
def slack() -> SlackStandIn:
    return SlackStandIn()


@pytest.fixture
async def wire(slack: SlackStandIn, tmp_path: Path) -> AsyncIterator[Wire]:
    """Build the decision's objects from settings overrides. ``store_dir``: where the
    history lives instead of the data dir (one that cannot be used, for a store down);
    ``store_timeout``: the gatekeeper's (its default otherwise, as in production);
    ``group_clock``: the user group cache's clock."""
    built: list[Decider] = []

    async def build(
        *,
        store_dir: Path | None = None,
        store_timeout: float = 1.0,
        group_clock: Callable[[], float] = time.monotonic,
        **overrides: Any,
    ) -> Decider:
        settings = make_settings(**{"data_dir": str(tmp_path), **overrides})
        now = datetime.now(UTC).replace(microsecond=0)

        def clock() -> datetime:
            return now

        registry = settings.registry
        providers = ConfiguredProviders.connect(
            registry, settings.providers, settings.http_options()
        )
        history_file = (store_dir or tmp_path) / "history.sqlite3"
        url = f"sqlite:///{history_file}" if store_dir else settings.history_url()
        store = HistoryStore(url, schema=settings.database_schema)
        metrics = Metrics()
        outbox = Outbox(Path(settings.data_dir) / OUTBOX_NAME)
        inflight = InFlight()
        delivery = Delivery(slack, metrics=metrics)
        usergroups = UsergroupDirectory(
            slack, ttl_seconds=settings.usergroup_cache_seconds, clock=group_clock
        )
        auditor = Auditor(
            store=store,
            registry=registry,
            delivery=delivery,
            client=slack,
            inflight=inflight,
            audit_channel_id=settings.audit_channel_id,
            metrics=metrics,
            outbox=outbox,
        )
        duplicates = DuplicateGuard(
            store=store,
            registry=registry,
            window=timedelta(minutes=settings.duplicate_window_minutes),
            pending_timeout=pending_timeout(settings),
            clock=clock,
        )
        gatekeeper = Gatekeeper(
            registry=registry,
            access=AccessPolicy(settings.access_rules(), usergroups),
            metrics=metrics,
            duplicates=duplicates,
            auditor=auditor,
            clock=clock,
            store_timeout=store_timeout,
        )
        lookups = InvoiceLookups(providers)
        pipeline = ResendPipeline(
            providers=providers,
            delivery=delivery,
            inflight=inflight,
            gatekeeper=gatekeeper,
            auditor=auditor,
            lookups=lookups,
            journal=AttemptJournal(store),
        )
        decider = Decider(
            settings=settings,
            slack=slack,
            store=store,
            outbox=outbox,
            inflight=inflight,
            metrics=metrics,
            duplicates=duplicates,
            auditor=auditor,
            gatekeeper=gatekeeper,
            pipeline=pipeline,
            core=ResendCore(providers=providers, gatekeeper=gatekeeper, pipeline=pipeline),
            providers=providers,
            lookups=lookups,
            now=now,
            history_file=history_file,
        )
        decider._closers += [store.aclose, providers.aclose, lookups.aclose]
        built.append(decider)
        # As `Services.start`: a store that cannot start is loud, not fatal.
        with contextlib.suppress(StoreUnavailableError):
            await store.start()
        return decider

    yield build
    for decider in built:
        await decider.settle()
        await decider.aclose()
        assert decider.slack.unexpected_calls() == []


def pending_timeout(settings: Settings) -> timedelta:
    """How long a running re-send holds its invoice, as `Services.create` computes it."""
    return timedelta(
        seconds=(2 * settings.provider_read_timeout + settings.provider_connect_timeout)
        * (settings.provider_max_retries + 1)
        + 60
    )


# --- Requests and what the history already holds -----------------------------------


def lummy(email: str | None = None) -> ResendRequest:
    """The seeded Lummy invoice, optionally to an alternative e-mail."""
    values = {"invoice_id": SEED_LUMMY_ID, **({"email": email} if email else {})}
    request: ResendRequest = REGISTRY["lummy"].build_request(values)
    return request


def tusfacturas() -> ResendRequest:
    """A TusFacturas voucher (a provider without an hourly quota)."""
    values = {"tipo": "FACTURA B", "operacion": "V", "punto_venta": "0002", "numero": "00000006"}
    request: ResendRequest = REGISTRY["tusfacturas"].build_request(values)
    return request


def job_of(
    request: ResendRequest, *, user: str = AGENT, channel: str | None = CHANNEL
) -> ResendJob:
    """A submitted job of ``request``."""
    return ResendJob(request=request, requested_by=user, origin_channel_id=channel)


async def seed_send(
    decider: Decider,
    request: ResendRequest,
    *,
    user: str,
    ago: timedelta,
    outcome: str = "success",
    keep_claim: bool = True,
    key: str | None = None,
) -> AttemptRecord:
    """A re-send that ended ``ago``, written as the pipeline writes it: a claim, then the
    row that ends it (kept as sent after a success or an unknown outcome).
    ``keep_claim=False``: only the row (a claim lost, or written by another replica);
    ``key``: the job's idempotency key (a new one by default)."""
    store, at = decider.store, decider.now - ago
    attempt = key or str(uuid4())
    if keep_claim:
        holder = await store.claim(
            request.invoice_key,
            attempt_id=attempt,
            user_id=user,
            now=at,
            sent_window=timedelta(0),
            pending_timeout=timedelta(0),
            force=True,
        )
        assert holder is None
    record = AttemptRecord(
        attempt_id=str(uuid4()),
        created_at=at,
        user_id=user,
        channel_id=CHANNEL,
        provider=request.provider,
        invoice_key=request.invoice_key,
        reference=request.reference,
        outcome=outcome,
        recipients=("cliente@example.com",),
        idempotency_key=attempt,
        latency_ms=120,
    )
    await store.record(record, finishes_attempt=keep_claim)
    return record


async def seed_sends(
    decider: Decider, request: ResendRequest, user: str, ages: list[timedelta]
) -> list[AttemptRecord]:
    """Several successful re-sends (rows only), as an hour of agents would leave them."""
    return [await seed_send(decider, request, user=user, ago=ago, keep_claim=False) for ago in ages]


async def seed_running(
    decider: Decider,
    request: ResendRequest,
    *,
    user: str,
    ago: timedelta,
    attempt_id: str | None = None,
) -> str:
    """A re-send started ``ago`` and still running: its pending claim; its attempt id."""
    attempt = attempt_id or str(uuid4())
    holder = await decider.store.claim(
        request.invoice_key,
        attempt_id=attempt,
        user_id=user,
        now=decider.now - ago,
        sent_window=timedelta(0),
        pending_timeout=timedelta(0),
        force=True,
    )
    assert holder is None
    assert (request.invoice_key, attempt, user, ClaimState.PENDING) in decider.claims()
    return attempt


@contextlib.contextmanager
def write_lock(path: Path) -> Iterator[None]:
    """Another process' write transaction on the history file, held for the block (WAL:
    readers still read; writers wait for SQLite's busy timeout, then fail)."""
    db = sqlite3.connect(path, timeout=1.0, isolation_level=None)
    try:
        db.execute("BEGIN IMMEDIATE")
        yield
    finally:
        db.execute("ROLLBACK")
        db.close()


async def eventually(check: Callable[[], bool], *, timeout: float = AUDIT_WAIT) -> bool:
    """Whether ``check`` holds within ``timeout`` (polled)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(0.02)
    return True


# --- What a decision must leave behind ------------------------------------------------

#: The workspace every request comes from.
TEAM = "T0TEAM"


def expected_audit(decision: object, *, holder: str | None = None) -> list[tuple[str, str]]:
    """The (outcome, detail) rows a decision leaves in the history: one per refusal or
    duplicate warning (whose detail names who holds the invoice, when known)."""
    code = getattr(decision, "code", None)
    if code is not None:
        return [("refused", code)]
    if hasattr(decision, "insight"):
        return [("duplicate_warning", holder or "duplicate_warning")]
    return []


def audit_rows(
    records: list[AttemptRecord], job: ResendJob, *, user: str, channel: str | None
) -> list[tuple[str, str | None]]:
    """(outcome, detail) of each audited row, checking it names this job and requester."""
    for record in records:
        assert (record.user_id, record.channel_id, record.team_id) == (user, channel, TEAM)
        assert (record.provider, record.reference) == (job.request.provider, job.request.reference)
        assert record.idempotency_key == job.idempotency_key
        assert record.alternative_email == job.request.alternative_email
        assert record.created_at is not None
    return [(record.outcome, record.detail) for record in records]


async def assert_left_behind(
    decider: Decider,
    decision: object,
    job: ResendJob,
    *,
    claims_before: list[tuple[str, str, str, str]],
    holder: str | None = None,
    user: str = AGENT,
    channel: str | None = CHANNEL,
) -> None:
    """What a decision must leave: one audit row per refusal or warning, none otherwise;
    a running claim of this job when it goes ahead having claimed, else the claims as
    they were."""
    records = await decider.audited(job.request.invoice_key)
    audited = audit_rows(records, job, user=user, channel=channel)
    assert audited == expected_audit(decision, holder=holder)
    if getattr(decision, "claimed", False):
        key = job.request.invoice_key
        assert decider.claims() == [(key, job.idempotency_key, user, "pending")]
    else:
        assert decider.claims() == claims_before
