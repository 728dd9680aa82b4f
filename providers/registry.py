"""The providers the bot offers, and one entry point for re-sends whatever the provider."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final, cast

import httpx
import structlog
from pydantic import ValidationError

from providers.base import (
    WHOLE_INPUT,
    FieldProblem,
    InvalidReferenceError,
    InvoiceFacts,
    InvoiceProvider,
    LookupClient,
    ProviderClient,
    ProviderSettings,
    Recognition,
    ResendRequest,
    ResendResult,
)
from providers.customers import CustomerQuery, SearchKind
from providers.errors import Outcome, OutcomeUnknownError, ProviderError, ProviderNotConfiguredError
from providers.http import HttpOptions
from providers.lummy.provider import LUMMY
from providers.parsing import EMPTY, NOT_A_REFERENCE, quote, within_one_edit
from providers.search import SearchClient, SearchResult
from providers.tusfacturas.provider import TUSFACTURAS

log = structlog.get_logger(__name__)

AnyProvider = InvoiceProvider[Any, Any]


#: The shortest word (and alias) a misspelling is forgiven in: ``tf`` must be exact.
_FUZZY_MIN: Final = 4


class ProviderRegistry(Mapping[str, AnyProvider]):
    """The offered providers by key, in the order the bot shows them."""

    def __init__(self, providers: Iterable[AnyProvider]) -> None:
        self._providers: dict[str, AnyProvider] = {}
        for provider in providers:
            if provider.key in self._providers:
                raise ValueError(f"two providers with the key {provider.key!r}")
            self._providers[provider.key] = provider

    def __getitem__(self, key: str) -> AnyProvider:
        return self._providers[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._providers)

    def __len__(self) -> int:
        return len(self._providers)

    def of(self, request: ResendRequest) -> AnyProvider:
        """The provider a request belongs to."""
        return self._providers[request.provider]

    def parse_reference(self, text: str) -> ResendRequest:
        """Whatever an agent typed after ``/reenviar``, for whichever provider it names or
        looks like. A leading provider word (or a close misspelling of one, see
        `provider_word`) decides, unless another provider surely recognizes the rest as
        its own reference: the reference's shape wins over a mistaken word. Without a
        word, the provider that recognizes the text most surely."""
        stripped = text.strip()
        if not stripped:
            raise InvalidReferenceError({WHOLE_INPUT: FieldProblem(EMPTY)})
        named = self.provider_word(stripped)
        if named is not None:
            provider, rest = named[1], after_first_word(stripped)
            if provider.recognizes(rest) is not Recognition.SURE:
                surer = self._surest(rest)
                if surer is not None and surer.recognizes(rest) is Recognition.SURE:
                    provider = surer
            return cast(ResendRequest, provider.parse(rest))
        best = self._surest(stripped)
        if best is not None and best.recognizes(stripped) is not Recognition.NO:
            return cast(ResendRequest, best.parse(stripped))
        raise InvalidReferenceError(
            {WHOLE_INPUT: FieldProblem(NOT_A_REFERENCE, text=quote(stripped))}
        )

    def _surest(self, text: str) -> AnyProvider | None:
        """The provider that recognizes ``text`` most surely; on a tie, the one shown first."""
        return max(self.values(), key=lambda p: p.recognizes(text), default=None)

    def provider_word(self, text: str) -> tuple[str, AnyProvider] | None:
        """The leading word of ``text`` when it names a provider, as typed, and that
        provider: an alias (``lummy``, ``tf``), or one letter away from a long one
        (``lumy``, ``tusfactura``); short aliases must be exact."""
        words = text.split(maxsplit=1)
        if not words:
            return None
        word = words[0].rstrip(":,")
        named = self.by_alias(word)
        if named is None and len(word) >= _FUZZY_MIN:
            folded = word.lower()
            named = next(
                (
                    p
                    for p in self.values()
                    for alias in p.aliases
                    if len(alias) >= _FUZZY_MIN and within_one_edit(folded, alias)
                ),
                None,
            )
        return (word, named) if named is not None else None

    def by_alias(self, word: str) -> AnyProvider | None:
        """The provider a word names (``lummy``, ``tf``), case-insensitive, or None."""
        folded = word.lower()
        return next((p for p in self.values() if folded in p.aliases), None)

    def request_from_json(self, provider_key: str, data: Mapping[str, Any]) -> ResendRequest:
        """A request read back from its JSON form; ``ValueError`` when it is not one."""
        provider = self._providers.get(provider_key)
        if provider is None:
            raise ValueError(f"unknown provider {provider_key!r}")
        try:
            return provider.request_model.model_validate(data)
        except ValidationError as exc:
            raise ValueError(str(exc)) from exc

    def load_settings(
        self, *, env_file: str | None = ".env", **overrides: Any
    ) -> dict[str, ProviderSettings]:
        """Every provider's settings from the environment; ``overrides`` are keyword
        settings named like the variables (``lummy_api_key=...``)."""
        loaded: dict[str, ProviderSettings] = {}
        for key, provider in self.items():
            prefix = f"{key}_"
            own = {
                name.removeprefix(prefix): value
                for name, value in overrides.items()
                if name.startswith(prefix)
            }
            loaded[key] = provider.load_settings(env_file=env_file, **own)
        return loaded


class ConfiguredProviders:
    """The clients of the providers that have credentials; one ``resend`` for all."""

    def __init__(self, registry: ProviderRegistry, clients: Mapping[str, ProviderClient]) -> None:
        self.registry = registry
        self._clients = dict(clients)

    @classmethod
    def connect(
        cls,
        registry: ProviderRegistry,
        settings: Mapping[str, ProviderSettings],
        options: HttpOptions,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> ConfiguredProviders:
        """A client for each provider whose settings hold credentials."""
        clients: dict[str, ProviderClient] = {}
        for key, provider in registry.items():
            own = settings.get(key) or provider.load_settings(env_file=None)
            client = provider.client(own, options, transport=transport)
            if client is not None:
                clients[key] = client
        return cls(registry, clients)

    def client(self, key: str) -> ProviderClient | None:
        """The configured client of the provider ``key``, if it has credentials."""
        return self._clients.get(key)

    def is_configured(self, key: str) -> bool:
        """Whether the bot holds credentials for this provider."""
        return key in self._clients

    @property
    def configured(self) -> dict[str, bool]:
        """Every offered provider and whether it has credentials, in display order."""
        return {key: key in self._clients for key in self.registry}

    def missing_configuration(self, request: ResendRequest) -> ProviderNotConfiguredError | None:
        """Why this request cannot be sent with the configured credentials, or None."""
        client = self._clients.get(request.provider)
        if client is None:
            return _not_configured(request.provider)
        return client.not_configured_for(request)

    async def resend(self, request: ResendRequest, *, idempotency_key: str) -> ResendResult:
        """Re-send through the request's provider; failures are always `ProviderError`s.

        ``idempotency_key`` identifies the logical re-send: a retry of the same
        request must pass the same key. The canonical audit line is written by
        the caller, which knows who asked and where the outcome was posted; this
        layer logs the provider call itself at debug level.
        """
        started = time.perf_counter()
        fields = {
            "provider": request.provider,
            "reference": request.reference,
            "idempotency_key": idempotency_key,
        }
        try:
            client = self._clients.get(request.provider)
            if client is None:
                raise _not_configured(request.provider)
            result = await client.resend(request, idempotency_key=idempotency_key)
        except ProviderError as exc:
            log.debug(
                "provider_call",
                **fields,
                outcome=exc.outcome.value,
                latency_ms=_elapsed_ms(started),
                request_id=exc.request_id,
                status_code=exc.status_code,
                detail=exc.detail,
            )
            raise
        except Exception as exc:
            # A bug or a surprise from a library: the request may have gone out.
            log.exception(
                "provider_unexpected_error",
                **fields,
                latency_ms=_elapsed_ms(started),
                detail=f"unexpected {type(exc).__name__}",
            )
            raise OutcomeUnknownError(
                f"unexpected {type(exc).__name__}: {exc}", provider=request.provider
            ) from exc
        log.debug(
            "provider_call",
            **fields,
            outcome=Outcome.SUCCESS.value,
            latency_ms=_elapsed_ms(started),
            request_id=result.request_id,
        )
        return result

    def can_look_up(self, request: ResendRequest) -> bool:
        """Whether the request's provider declares lookups and the bot can make one for it."""
        client = self._clients.get(request.provider)
        return (
            self.registry.of(request).can_look_up
            and client is not None
            and client.not_configured_for(request) is None
        )

    async def lookup(self, request: ResendRequest) -> InvoiceFacts | None:
        """What the request's provider knows about the invoice, without sending anything;
        None when it cannot tell (see `can_look_up`). Failures are `ProviderError`s."""
        if not self.can_look_up(request):
            return None
        client = cast(LookupClient, self._clients[request.provider])
        return await client.lookup(request)

    def can_search(self, key: str, kind: SearchKind) -> bool:
        """Whether the provider ``key`` searches by ``kind`` and the bot holds its credentials."""
        provider = self.registry.get(key)
        return provider is not None and kind in provider.searches and key in self._clients

    async def search(self, key: str, query: CustomerQuery) -> SearchResult | None:
        """What the provider ``key`` finds for ``query``; None when it cannot search by it
        (see `can_search`). Failures are `ProviderError`s."""
        if not self.can_search(key, query.kind):
            return None
        client = cast(SearchClient, self._clients[key])
        return await client.search(query)

    async def aclose(self) -> None:
        """Close every client's connection pool."""
        for client in self._clients.values():
            await client.aclose()


def after_first_word(text: str) -> str:
    """``text`` without its first word (a provider word), stripped."""
    words = text.split(maxsplit=1)
    return words[1].strip() if len(words) > 1 else ""


def builtin_registry() -> ProviderRegistry:
    """The providers this bot ships with: TusFacturas (Argentina) and Lummy (Mexico)."""
    return ProviderRegistry([TUSFACTURAS, LUMMY])


def _not_configured(key: str) -> ProviderNotConfiguredError:
    return ProviderNotConfiguredError(f"{key} credentials are not set", provider=key)


def _elapsed_ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)
