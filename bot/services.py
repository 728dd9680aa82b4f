"""What the handlers need, built once from the settings and closed once."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Final

import structlog
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.history.health import CHECK_SECONDS, StoreHealth
from bot.history.outbox import OUTBOX_NAME, Outbox
from bot.history.store import HistoryStore
from bot.metrics import Metrics
from bot.resend.access import AccessPolicy
from bot.resend.admission import Gatekeeper
from bot.resend.audit import Auditor
from bot.resend.core import ResendCore
from bot.resend.duplicates import DuplicateGuard
from bot.resend.inflight import InFlight
from bot.resend.lookup import InvoiceLookups
from bot.resend.pipeline import ResendPipeline
from bot.resend.recovery import AttemptJournal, OrphanResolver
from bot.search import InvoiceSearch
from bot.slack.client import shared_slack_session, slack_client
from bot.slack.delivery import Delivery
from bot.slack.directory import UserDirectory, UsergroupDirectory
from bot.slack.revisions import OwnViewUpdates
from providers.registry import ConfiguredProviders, ProviderRegistry

log = structlog.get_logger(__name__)

CONTEXT_KEY = "reenviar_services"
#: How long closing waits for orphans being resolved.
RESOLVE_GRACE_SECONDS: Final = 5.0


@dataclass
class Services:
    """Long-lived collaborators shared by every handler."""

    settings: Settings
    providers: ConfiguredProviders
    client: AsyncWebClient
    core: ResendCore
    #: Runs an accepted re-send: progress, provider call, outcome, audit.
    pipeline: ResendPipeline
    gatekeeper: Gatekeeper
    #: Recent re-sends of an invoice and the claim on it (the modal warns with it too).
    duplicates: DuplicateGuard
    directory: UserDirectory
    store: HistoryStore
    inflight: InFlight
    #: What providers know about invoices before they are sent, briefly remembered.
    lookups: InvoiceLookups
    #: Invoices found from what the customer says, in the providers and the history.
    search: InvoiceSearch
    #: User group membership, cached; Slack's subteam events drop it at once.
    usergroups: UsergroupDirectory
    #: What /metrics serves; a registry of its own per `Services`.
    metrics: Metrics
    #: The store's health (checked every few seconds) and its outbox.
    health: StoreHealth
    #: Re-sends written down before their provider calls, and those a dead process left.
    journal: AttemptJournal
    resolver: OrphanResolver
    #: The modal updates the bot made by itself (previews), so a click is not taken for stale.
    own_view_updates: OwnViewUpdates = field(default_factory=OwnViewUpdates)
    shutting_down: bool = field(default=False)
    _resolving: asyncio.Task[int] | None = field(default=None, repr=False)
    _store_watch: asyncio.Task[None] | None = field(default=None, repr=False)

    @classmethod
    def create(cls, settings: Settings, *, client: AsyncWebClient | None = None) -> Services:
        """Build everything from the settings (no I/O: see `start`)."""
        client = client or slack_client(settings.slack_token(), str(settings.slack_api_url))
        registry = settings.registry
        providers = ConfiguredProviders.connect(
            registry, settings.providers, settings.http_options()
        )
        store = HistoryStore(settings.history_url(), schema=settings.database_schema)
        metrics = Metrics()
        outbox = Outbox(
            Path(settings.data_dir).expanduser() / OUTBOX_NAME,
            on_size=metrics.history_queued_rows.set,
        )
        journal = AttemptJournal(store)
        delivery = Delivery(client, metrics=metrics)
        inflight = InFlight()
        metrics.inflight.set_function(lambda: inflight.count)
        usergroups = UsergroupDirectory(client, ttl_seconds=settings.usergroup_cache_seconds)
        auditor = Auditor(
            store=store,
            registry=registry,
            delivery=delivery,
            client=client,
            inflight=inflight,
            audit_channel_id=settings.audit_channel_id,
            metrics=metrics,
            outbox=outbox,
        )
        duplicates = DuplicateGuard(
            store=store,
            registry=registry,
            window=timedelta(minutes=settings.duplicate_window_minutes),
            # A re-send holds its invoice at most as long as it can take, plus margin.
            pending_timeout=timedelta(
                seconds=(2 * settings.provider_read_timeout + settings.provider_connect_timeout)
                * (settings.provider_max_retries + 1)
                + 60
            ),
        )
        directory = UserDirectory(client)
        gatekeeper = Gatekeeper(
            registry=registry,
            access=AccessPolicy(settings.access_rules(), usergroups),
            metrics=metrics,
            duplicates=duplicates,
            auditor=auditor,
            timezone_of=directory.timezone,
        )
        lookups = InvoiceLookups(
            providers, slots=settings.provider_lookup_connections, metrics=metrics
        )
        pipeline = ResendPipeline(
            providers=providers,
            delivery=delivery,
            inflight=inflight,
            gatekeeper=gatekeeper,
            auditor=auditor,
            lookups=lookups,
            journal=journal,
        )
        services = cls(
            settings=settings,
            providers=providers,
            client=client,
            core=ResendCore(providers=providers, gatekeeper=gatekeeper, pipeline=pipeline),
            pipeline=pipeline,
            gatekeeper=gatekeeper,
            duplicates=duplicates,
            directory=directory,
            store=store,
            inflight=inflight,
            lookups=lookups,
            search=InvoiceSearch(providers, store),
            usergroups=usergroups,
            metrics=metrics,
            health=StoreHealth(store, outbox, probe=journal.renew),
            journal=journal,
            resolver=OrphanResolver(
                journal=journal,
                delivery=delivery,
                auditor=auditor,
                registry=registry,
                on_resolved=metrics.recovered_orphans.inc,
            ),
        )
        metrics.history_available.set_function(lambda: services.history_status == "ok")
        return services

    async def start(self) -> None:
        """Open the Slack connection pool; create or migrate the history schema (a failure
        there is loud but not fatal)."""
        if self.client.session is None:
            # One pool of keep-alive connections for every Web API call and response_url,
            # instead of a new session and TCP connection per call.
            self.client.session = shared_slack_session()
        rules = self.settings.access_rules()
        if rules.open_to_everyone:
            log.warning(
                "access_open_to_everyone",
                hint="set ALLOWED_USER_IDS, ALLOWED_USERGROUP_IDS or ALLOWED_CHANNEL_IDS",
            )
        if rules.alternative_email.value == "everyone" and not rules.alternative_email_domains:
            log.warning(
                "alternative_email_open_to_everyone",
                hint="set ALTERNATIVE_EMAIL_POLICY=listed (and its lists) or "
                "ALTERNATIVE_EMAIL_DOMAINS to limit where invoices can be sent",
            )
        await asyncio.to_thread(self.health.outbox.load)
        await self.refresh_history_status()
        self._store_watch = asyncio.create_task(self._watch_store())

    @property
    def history_status(self) -> str:
        """``ok``, or why the history store is unavailable (a failed write shows at once)."""
        return self.health.status

    @property
    def store_started(self) -> bool:
        """Whether the history store was created and migrated."""
        return self.health.started

    async def refresh_history_status(self) -> None:
        """Check the store (starting or recovering it if needed), write what the outbox
        holds, and resolve re-sends a dead process left, once the store is trusted again."""
        await self.health.tick()
        if self.health.status == "ok":
            await self.duplicates.retry_releases()
        trusted = self.health.healthy_for() >= self.journal.lease.total_seconds()
        if trusted and (self._resolving is None or self._resolving.done()):
            # Beside the checks, not in their way: resolving talks to Slack.
            self._resolving = asyncio.create_task(self.resolver.resolve())

    async def _watch_store(self) -> None:
        """`refresh_history_status` every few seconds, healthy or not."""
        while True:
            await asyncio.sleep(CHECK_SECONDS)
            await self.refresh_history_status()

    @property
    def registry(self) -> ProviderRegistry:
        """The offered providers."""
        return self.providers.registry

    @property
    def configured(self) -> dict[str, bool]:
        """Every offered provider and whether it has credentials, for the modal."""
        return self.providers.configured

    async def aclose(self) -> None:
        """Stop the store check, close provider connection pools and the store."""
        if self._store_watch is not None:
            self._store_watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._store_watch
        if self._resolving is not None:
            # An orphan half resolved is resolved again by another process: no harm, but
            # let a quick one finish.
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(self._resolving, RESOLVE_GRACE_SECONDS)
        await self.lookups.aclose()
        await self.providers.aclose()
        await self.store.aclose()
        if self.client.session is not None:
            await self.client.session.close()


def services_of(context: AsyncBoltContext) -> Services:
    """The `Services` the app's middleware put in Bolt's context."""
    services = context[CONTEXT_KEY]
    assert isinstance(services, Services)
    return services
