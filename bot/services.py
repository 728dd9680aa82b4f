"""What the handlers need, built once from the settings and closed once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import structlog
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.exc import SQLAlchemyError

from bot.access import AccessPolicy, UsergroupDirectory
from bot.admission import Gatekeeper
from bot.audit import Auditor
from bot.config import Settings
from bot.delivery import Delivery
from bot.store import HistoryStore, StoreUnavailableError
from bot.workflow import InFlight, ResendWorkflow, UserDirectory
from providers.base import Provider
from providers.registry import Providers

log = structlog.get_logger(__name__)

CONTEXT_KEY = "reenviar_services"


def slack_client(settings: Settings) -> AsyncWebClient:
    """The Web API client: Slack's URL from settings, 429s and dropped connections retried."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    return AsyncWebClient(
        token=token,
        base_url=str(settings.slack_api_url),
        timeout=15,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=1),
            AsyncRateLimitErrorRetryHandler(max_retry_count=2),
        ],
    )


@dataclass
class Services:
    """Long-lived collaborators shared by every handler."""

    settings: Settings
    providers: Providers
    client: AsyncWebClient
    workflow: ResendWorkflow
    gatekeeper: Gatekeeper
    directory: UserDirectory
    store: HistoryStore
    inflight: InFlight
    shutting_down: bool = field(default=False)
    store_started: bool = field(default=False)

    @classmethod
    def create(cls, settings: Settings, *, client: AsyncWebClient | None = None) -> Services:
        """Build everything from the settings (no I/O: see `start`)."""
        client = client or slack_client(settings)
        providers = Providers.from_configs(
            tusfacturas=settings.tusfacturas_config(),
            lummy=settings.lummy_config(),
            options=settings.http_options(),
        )
        store = HistoryStore(settings.history_url(), schema=settings.database_schema)
        delivery = Delivery(client)
        auditor = Auditor(
            store=store,
            delivery=delivery,
            client=client,
            audit_channel_id=settings.audit_channel_id,
        )
        gatekeeper = Gatekeeper(
            access=AccessPolicy(
                settings.access_rules(),
                UsergroupDirectory(client, ttl_seconds=settings.usergroup_cache_seconds),
            ),
            store=store,
            auditor=auditor,
            duplicate_window=timedelta(minutes=settings.duplicate_window_minutes),
            # A re-send holds its invoice at most as long as it can take, plus margin.
            pending_timeout=timedelta(
                seconds=(settings.provider_read_timeout + settings.provider_connect_timeout)
                * (settings.provider_max_retries + 1)
                + 30
            ),
        )
        inflight = InFlight()
        directory = UserDirectory(client)
        workflow = ResendWorkflow(
            providers=providers,
            delivery=delivery,
            directory=directory,
            inflight=inflight,
            gatekeeper=gatekeeper,
            auditor=auditor,
        )
        return cls(
            settings=settings,
            providers=providers,
            client=client,
            workflow=workflow,
            gatekeeper=gatekeeper,
            directory=directory,
            store=store,
            inflight=inflight,
        )

    async def start(self) -> None:
        """Create or migrate the history schema. A failure is loud but not fatal."""
        rules = self.settings.access_rules()
        if rules.open_to_everyone:
            log.warning(
                "access_open_to_everyone",
                hint="set ALLOWED_USER_IDS, ALLOWED_USERGROUP_IDS or ALLOWED_CHANNEL_IDS",
            )
        await self.ensure_store()

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
    def configured(self) -> dict[Provider, bool]:
        """Which providers have credentials, for the modal."""
        return {provider: self.providers.is_configured(provider) for provider in Provider}

    async def aclose(self) -> None:
        """Close provider connection pools and the store."""
        await self.providers.aclose()
        await self.store.aclose()


def services_of(context: AsyncBoltContext) -> Services:
    """The `Services` the app's middleware put in Bolt's context."""
    services = context[CONTEXT_KEY]
    assert isinstance(services, Services)
    return services
