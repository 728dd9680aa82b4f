"""Facts into words: what each provider failure means and what the agent reads."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bot.ui import strings
from bot.ui.wording import error_message, format_wait
from providers.errors import (
    REJECTION_EMAIL_SENDING_OFF,
    AuthenticationError,
    InvalidRequestError,
    NotFoundError,
    Outcome,
    OutcomeUnknownError,
    ProviderError,
    ProviderNotConfiguredError,
    ProviderUnavailableError,
    RateLimitedError,
    RejectedError,
)

ENGLISH = re.compile(
    r"(?i)\b(error|failed|invalid|not found|request|retry|timeout|rate limit|unknown|"
    r"unavailable|try again|credentials)\b"
)

#: class -> (outcome, safe_to_retry, may_have_sent)
LABELS = {"tusfacturas": "TusFacturas", "lummy": "Lummy"}


def say(error: ProviderError) -> str:
    """What the agent reads for ``error``."""
    return error_message(error, LABELS[error.provider])


TAXONOMY: dict[type[ProviderError], tuple[Outcome, bool, bool]] = {
    ProviderNotConfiguredError: (Outcome.NOT_CONFIGURED, False, False),
    AuthenticationError: (Outcome.AUTHENTICATION_FAILED, False, False),
    InvalidRequestError: (Outcome.INVALID_REQUEST, False, False),
    NotFoundError: (Outcome.NOT_FOUND, False, False),
    RateLimitedError: (Outcome.RATE_LIMITED, False, False),
    RejectedError: (Outcome.REJECTED, False, False),
    ProviderUnavailableError: (Outcome.UNAVAILABLE, True, False),
    OutcomeUnknownError: (Outcome.UNKNOWN, False, True),
}


def make(cls: type[ProviderError], provider: str = "lummy") -> ProviderError:
    return cls("technical detail for logs", provider=provider)


def assert_spanish(message: str) -> None:
    assert message.strip()
    assert not ENGLISH.search(message), message
    assert "{" not in message, f"unformatted placeholder in {message!r}"
    assert message.rstrip().endswith("."), message


def test_taxonomy_covers_every_failure_outcome() -> None:
    assert {outcome for outcome, _, _ in TAXONOMY.values()} == set(Outcome) - {Outcome.SUCCESS}
    # Besides one per outcome, a provider (or a kind of limit) may have its own wording.
    general = {key for key in strings.PROVIDER_ERRORS if "." not in key}
    assert general == {o.value for o in Outcome} - {"success"}
    assert {key.split(".")[0] for key in strings.PROVIDER_ERRORS} == general


def test_outcome_values_are_stable_strings() -> None:
    # These values end up in logs and in the history; renaming one breaks both.
    assert {o.value for o in Outcome} == {
        "success",
        "not_configured",
        "authentication_failed",
        "invalid_request",
        "not_found",
        "rate_limited",
        "rejected",
        "unavailable",
        "unknown",
    }


@pytest.mark.parametrize("cls", list(TAXONOMY))
@pytest.mark.parametrize("provider", list(LABELS))
def test_each_class(cls: type[ProviderError], provider: str) -> None:
    outcome, safe, may_have_sent = TAXONOMY[cls]
    error = make(cls, provider)
    assert isinstance(error, ProviderError)
    assert isinstance(error, Exception)
    assert error.outcome is outcome
    assert error.safe_to_retry is safe
    assert error.may_have_sent is may_have_sent
    assert error.offers_retry is (safe or may_have_sent)
    assert error.provider == provider
    assert str(error) == "technical detail for logs" == error.detail
    message = say(error)
    assert_spanish(message)
    template = strings.PROVIDER_ERRORS.get(
        f"{outcome.value}.{provider}", strings.PROVIDER_ERRORS[outcome.value]
    )
    assert message == template.format(provider=LABELS[provider])
    if cls is not OutcomeUnknownError:
        assert message.startswith(LABELS[provider])
    else:
        assert LABELS[provider] in message


def test_messages_differ_between_outcomes() -> None:
    messages = {say(make(cls)) for cls in TAXONOMY}
    assert len(messages) == len(TAXONOMY)


def test_only_unavailable_and_unknown_offer_a_retry() -> None:
    offering = {cls for cls in TAXONOMY if make(cls).offers_retry}
    assert offering == {ProviderUnavailableError, OutcomeUnknownError}
    # The two differ in what the retry risks.
    assert "sin riesgo" in say(make(ProviderUnavailableError))
    assert "no se envió nada" in say(make(ProviderUnavailableError))
    unknown = say(make(OutcomeUnknownError))
    assert "pudo haber salido" in unknown
    assert "confirmar con el cliente" in unknown


def test_context_is_carried_and_repr_is_safe_for_logs() -> None:
    error = NotFoundError(
        "HTTP 404 from /invoices/x/resend-pdf",
        provider="lummy",
        request_id="req_123",
        status_code=404,
        provider_message="Invoice not found",
    )
    assert (error.request_id, error.status_code, error.provider_message) == (
        "req_123",
        404,
        "Invoice not found",
    )
    text = repr(error)
    assert text.startswith("NotFoundError(")
    assert "provider='lummy'" in text
    assert "status_code=404" in text
    assert "request_id='req_123'" in text
    assert "HTTP 404" in text
    # The provider's own wording stays out of the agent message (views show it apart).
    assert "Invoice not found" not in say(error)


def test_defaults_when_no_context() -> None:
    error = make(AuthenticationError, "tusfacturas")
    assert error.request_id is None
    assert error.status_code is None
    assert error.provider_message is None
    assert "administrador" in say(error)
    assert "reintentar no va a servir" in say(error)


# --- Not configured --------------------------------------------------------------------


def test_not_configured_for_the_whole_provider() -> None:
    error = ProviderNotConfiguredError("no LUMMY_API_KEY", provider="lummy")
    assert error.field is None
    assert error.field_value is None
    assert say(error) == (
        "Lummy no está configurado en el bot. "
        "Pedir al administrador del bot que cargue las credenciales de Lummy."
    )


def test_not_configured_for_one_punto_de_venta_names_it() -> None:
    error = ProviderNotConfiguredError(
        "no credentials for pv 7", provider="tusfacturas", field="punto_venta", field_value="7"
    )
    assert error.outcome is Outcome.NOT_CONFIGURED
    assert (error.field, error.field_value) == ("punto_venta", "7")
    message = say(error)
    assert_spanish(message)
    assert "punto de venta 7" in message
    assert "TusFacturas" in message
    assert message == strings.NOT_CONFIGURED_FOR_FIELD["punto_venta"].format(
        provider="TusFacturas", value=7
    )
    assert not error.offers_retry


# --- Invalid request -----------------------------------------------------------------


@pytest.mark.parametrize(("field", "needle"), [("email", "correo alternativo")])
def test_invalid_request_names_the_field_when_known(field: str, needle: str) -> None:
    error = InvalidRequestError(
        "422", provider="lummy", field=field, status_code=422, request_id="r1"
    )
    assert error.field == field
    assert error.status_code == 422
    assert error.request_id == "r1"
    assert say(error) == strings.INVALID_FIELD[field]
    assert needle in say(error)
    assert_spanish(say(error))


@pytest.mark.parametrize("field", [None, "tipo", "invoice_id", "something_else"])
def test_invalid_request_falls_back_to_the_generic_message(field: str | None) -> None:
    error = InvalidRequestError("400", provider="tusfacturas", field=field)
    assert say(error) == strings.PROVIDER_ERRORS["invalid_request"].format(provider="TusFacturas")


# --- Rate limited ------------------------------------------------------------------


def test_rate_limit_message_mentions_the_limit_and_the_wait() -> None:
    error = RateLimitedError(
        "429",
        provider="lummy",
        limit_per_hour=10,
        retry_after=timedelta(minutes=41, seconds=30),
        status_code=429,
        request_id="req_rl",
    )
    message = say(error)
    assert_spanish(message)
    assert message.startswith("Lummy frenó el reenvío por exceso de solicitudes; no se envió nada.")
    assert "10 reenvíos por hora por factura" in message
    assert "Se puede volver a intentar en 42 minutos." in message
    assert error.limit_per_hour == 10
    assert error.retry_after == timedelta(minutes=41, seconds=30)
    assert error.request_id == "req_rl"
    assert error.status_code == 429
    # Nothing was sent, but retrying right away would hit the limit again.
    assert not error.offers_retry


def test_rate_limit_without_details_still_says_nothing_was_sent() -> None:
    message = say(RateLimitedError("429", provider="tusfacturas"))
    assert message == "TusFacturas frenó el reenvío por exceso de solicitudes; no se envió nada."
    only_wait = say(
        RateLimitedError("429", provider="tusfacturas", retry_after=timedelta(seconds=1))
    )
    assert only_wait.endswith("Se puede volver a intentar en 1 segundo.")
    assert "por hora" not in only_wait
    only_limit = say(RateLimitedError("429", provider="lummy", limit_per_hour=10))
    assert only_limit.endswith("El límite es de 10 reenvíos por hora por factura.")
    assert "volver a intentar" not in only_limit


@pytest.mark.parametrize(
    ("wait", "text"),
    [
        (timedelta(0), "0 segundos"),
        (timedelta(seconds=-5), "0 segundos"),
        (timedelta(seconds=1), "1 segundo"),
        (timedelta(seconds=0.2), "1 segundo"),
        (timedelta(seconds=59), "59 segundos"),
        (timedelta(seconds=60), "1 minuto"),
        (timedelta(seconds=61), "2 minutos"),
        (timedelta(minutes=59), "59 minutos"),
        (timedelta(hours=1), "1 hora"),
        (timedelta(hours=1, minutes=5), "1 hora 5 min"),
        (timedelta(hours=3), "3 horas"),
    ],
)
def test_format_wait(wait: timedelta, text: str) -> None:
    assert format_wait(wait) == text


# --- Rejected --------------------------------------------------------------------------


def test_rejected_carries_the_providers_messages_and_codes() -> None:
    error = RejectedError(
        "error S",
        provider="tusfacturas",
        messages=("El comprobante no existe", "Revise los datos"),
        codes=("TFC-8004",),
    )
    assert error.messages == ("El comprobante no existe", "Revise los datos")
    assert error.codes == ("TFC-8004",)
    assert error.provider_message == "El comprobante no existe Revise los datos"
    assert error.reason is None
    assert say(error) == strings.PROVIDER_ERRORS["rejected"].format(provider="TusFacturas")
    assert not error.offers_retry


def test_rejected_keeps_an_explicit_provider_message() -> None:
    error = RejectedError(
        "error S",
        provider="tusfacturas",
        messages=("uno",),
        provider_message="el mensaje tal cual",
    )
    assert error.provider_message == "el mensaje tal cual"
    assert RejectedError("x", provider="lummy").provider_message is None


def test_email_not_enabled_explains_the_precondition() -> None:
    error = RejectedError(
        "error S: envio por mail deshabilitado",
        provider="tusfacturas",
        messages=("El cliente no tiene habilitado el envío por e-mail",),
        reason=REJECTION_EMAIL_SENDING_OFF,
    )
    message = say(error)
    assert message == strings.REJECTION_REASONS["email_sending_off"].format(provider="TusFacturas")
    assert_spanish(message)
    assert "envío por correo" in message
    assert "al emitirse" in message
    assert error.outcome is Outcome.REJECTED
    assert not error.offers_retry
    # The provider's wording is still kept for the message's detail line.
    assert error.provider_message == "El cliente no tiene habilitado el envío por e-mail"


# --- Catching by the base class ----------------------------------------------------------


def test_all_errors_are_caught_as_provider_error() -> None:
    caught: list[Outcome] = []
    for cls in TAXONOMY:
        try:
            raise make(cls)
        except ProviderError as exc:
            caught.append(exc.outcome)
    assert caught == [outcome for outcome, _, _ in TAXONOMY.values()]


# --- The copy itself ---------------------------------------------------------------------


def _copy(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _copy(item)]
    if isinstance(value, tuple):
        return [text for item in value for text in _copy(item)]
    return []


ALL_COPY = [
    text
    for name, value in vars(strings).items()
    if name.isupper() and not name.startswith("_")
    for text in _copy(value)
]


@pytest.mark.parametrize("text", ALL_COPY)
def test_copy_is_safe_mrkdwn_and_says_correo(text: str) -> None:
    # Slack reads <, > and & as markup: the copy never holds them (values are escaped).
    assert not set("<>&") & set(text), text
    assert "e-mail" not in text.lower(), text
    assert "Este usuario" not in text, text
