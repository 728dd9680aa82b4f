"""What the handlers need, built once from the settings and closed once."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Final

import structlog
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.exc import SQLAlchemyError

from bot.config import Settings
from bot.history.store import HistoryStore, StoreUnavailableError
from bot.metrics import Metrics
from bot.resend.access import AccessPolicy
from bot.resend.admission import Gatekeeper
from bot.resend.audit import Auditor
from bot.resend.core import ResendCore
from bot.resend.inflight import InFlight
from bot.resend.workflow import ResendWorkflow
from bot.slack.client import slack_client
from bot.slack.delivery import Delivery
from bot.slack.directory import UserDirectory, UsergroupDirectory
from providers.registry import ConfiguredProviders, ProviderRegistry

log = structlog.get_logger(__name__)

CONTEXT_KEY = "reenviar_services"
STORE_CHECK_TIMEOUT: Final = 10.0
STORE_RECHECK_SECONDS: Final = 30.0
STORE_RETRY_SECONDS: Final = 5.0


@dataclass
class Services:
    """Long-lived collaborators shared by every handler."""

    settings: Settings
    providers: ConfiguredProviders
    client: AsyncWebClient
    core: ResendCore
    workflow: ResendWorkflow
    gatekeeper: Gatekeeper
    directory: UserDirectory
    store: HistoryStore
    inflight: InFlight
    #: User group membership, cached; Slack's subteam events drop it at once.
    usergroups: UsergroupDirectory
    #: What /metrics serves; a registry of its own per `Services`.
    metrics: Metrics
    shutting_down: bool = field(default=False)
    store_started: bool = field(default=False)
    #: "ok", or why the history store is unavailable; kept fresh by a background check.
    history_status: str = field(default="not started")
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
        )
        gatekeeper = Gatekeeper(
            registry=registry,
            access=AccessPolicy(settings.access_rules(), usergroups),
            metrics=metrics,
            store=store,
            auditor=auditor,
            duplicate_window=timedelta(minutes=settings.duplicate_window_minutes),
            # A re-send holds its invoice at most as long as it can take, plus margin.
            pending_timeout=timedelta(
                seconds=(2 * settings.provider_read_timeout + settings.provider_connect_timeout)
                * (settings.provider_max_retries + 1)
                + 60
            ),
        )
        directory = UserDirectory(client)
        workflow = ResendWorkflow(
            providers=providers,
            delivery=delivery,
            directory=directory,
            inflight=inflight,
            gatekeeper=gatekeeper,
            auditor=auditor,
        )
        services = cls(
            settings=settings,
            providers=providers,
            client=client,
            core=ResendCore(providers=providers, gatekeeper=gatekeeper, workflow=workflow),
            workflow=workflow,
            gatekeeper=gatekeeper,
            directory=directory,
            store=store,
            inflight=inflight,
            usergroups=usergroups,
            metrics=metrics,
        )
        metrics.history_available.set_function(lambda: services.history_status == "ok")
        return services

    async def start(self) -> None:
        """Create or migrate the history schema. A failure is loud but not fatal."""
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
        await self.refresh_history_status()
        self._store_watch = asyncio.create_task(self._watch_store())

    async def refresh_history_status(self) -> None:
        """Start the store if needed and record whether it answers."""
        try:
            problem = await asyncio.wait_for(self.ensure_store(), STORE_CHECK_TIMEOUT)
        except TimeoutError:
            problem = "history store unavailable: no answer in time"
        self.history_status = problem or "ok"

    async def _watch_store(self) -> None:
        """Re-check the store now and then: start it once it comes back, keep readiness fresh."""
        while True:
            await asyncio.sleep(
                STORE_RECHECK_SECONDS if self.history_status == "ok" else STORE_RETRY_SECONDS
            )
            await self.refresh_history_status()

    async def ensure_store(self) -> str | None:
        """Start the store if it is not yet; None when it works, else the reason."""
        if not self.store_started:
            try:
                await self.store.start()
            except (StoreUnavailableError, SQLAlchemyError, OSError) as exc:
                log.error(
                    "history_store_unavailable",
                    store=self.store.description,
                    error=f"{type(exc).__name__}: {exc}"[:300],
                )
                return f"history store unavailable: {type(exc).__name__}"
            self.store_started = True
            log.info("history_store_ready", store=self.store.description)
        return await self.store.ping()

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
        await self.providers.aclose()
        await self.store.aclose()


def services_of(context: AsyncBoltContext) -> Services:
    """The `Services` the app's middleware put in Bolt's context."""
    services = context[CONTEXT_KEY]
    assert isinstance(services, Services)
    return services
