"""The re-send form: where its contents come from and what they become.

Pure functions between Slack's shapes (command text, a message, ``view.state.values``)
and typed requests. The form is the modal's (`bot.ui.resend_modal`): its block ids are
the field names used by `providers.parsing`, so a parser error maps straight onto the
field it names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from bot.ui import strings
from bot.ui.resend_modal import PROVIDER_BLOCK, REFERENCE_BLOCK, Choices, FormState
from bot.ui.wording import problem_message
from providers.base import FieldProblem, InvalidReferenceError, ResendRequest
from providers.registry import ProviderRegistry
from providers.scanning import FoundReference

#: The problem code for a form submitted without a provider.
PROVIDER_REQUIRED: Final = "provider_required"


def form_from_text(text: str, registry: ProviderRegistry) -> FormState:
    """Prefill from what followed ``/reenviar``: everything typed, each field's problem to be
    shown under it, and a note for what belongs to no field."""
    if not text.strip():
        return FormState()
    try:
        request = registry.parse_reference(text)
    except InvalidReferenceError as exc:
        provider = registry.get(exc.provider) if exc.provider else None
        fields = {field.name for field in provider.form} if provider else set()
        problems = {name: problem_message(p) for name, p in exc.problems.items() if name in fields}
        rest = [problem_message(p) for name, p in exc.problems.items() if name not in fields]
        notes = [_provider_word_note(text, exc.provider, registry)]
        if rest:
            notes.append(strings.PREFILL_NOTICE.format(problem=" ".join(rest)))
        return FormState(
            provider=exc.provider,
            values={k: v for k, v in exc.understood.items() if v},
            notice=" ".join(note for note in notes if note) or None,
            problems=problems,
        )
    form = form_for(request, registry)
    return form.model_copy(update={"notice": _provider_word_note(text, request.provider, registry)})


def _provider_word_note(text: str, provider: str | None, registry: ProviderRegistry) -> str | None:
    """One line when the provider word was read loosely (``lumy``) or overruled by the
    reference's own shape (``lummy FC B 2-6`` is TusFacturas')."""
    word = registry.provider_word(text.strip())
    if word is None or provider is None:
        return None
    typed, named = word
    if named.key != provider:
        return strings.PROVIDER_WORD_OVERRULED.format(word=typed, provider=registry[provider].label)
    if typed.lower() not in named.aliases:
        return strings.PROVIDER_WORD_READ_AS.format(word=typed, provider=named.label)
    return None


def address_asked(text: str, form: FormState, registry: ProviderRegistry) -> str | None:
    """An address typed beside ``form``'s reference that its provider cannot send to."""
    provider = registry.get(form.provider or "")
    return provider.address_beside(text) if provider is not None else None


def message_choices(found: Sequence[FoundReference]) -> Choices:
    """The references a message holds, as the modal carries them: (provider, words)."""
    return tuple((reference.request.provider, reference.text) for reference in found)


def form_from_choice(choices: Choices, registry: ProviderRegistry, *, choice: int = 0) -> FormState:
    """Prefill with the ``choice``-th reference of a message (the first by default); an
    empty form with a note when the message holds none."""
    if not choices:
        return FormState(notice=strings.SHORTCUT_NOTHING_FOUND)
    index = choice if 0 <= choice < len(choices) else 0
    key, text = choices[index]
    provider = registry.get(key)
    if provider is None:
        return FormState(notice=strings.SHORTCUT_NOTHING_FOUND)
    try:
        form = form_for(provider.parse(text), registry)
    except InvalidReferenceError:
        form = FormState(provider=key)
    if len(choices) > 1:
        form.values[REFERENCE_BLOCK] = str(index)
    return form


def form_for(request: ResendRequest, registry: ProviderRegistry) -> FormState:
    """The form showing ``request``."""
    return FormState(provider=request.provider, values=registry.of(request).form_values(request))


def _element_value(element: Mapping[str, Any]) -> str | None:
    """The value of one element in ``state.values``, whatever its type."""
    if element.get("selected_option"):
        value = element["selected_option"].get("value")
        return str(value) if value is not None else None
    if element.get("selected_options"):
        return ",".join(str(option.get("value")) for option in element["selected_options"])
    for key in ("value", "email"):
        if element.get(key) is not None:
            return str(element[key])
    return None


def form_from_view_state(
    state_values: Mapping[str, Mapping[str, Any]], registry: ProviderRegistry
) -> FormState:
    """Read the submitted (or in-progress) modal back into a `FormState`."""
    values: dict[str, str] = {}
    provider: str | None = None
    for block_id, actions in state_values.items():
        for element in actions.values():
            value = _element_value(element)
            if value is None:
                continue
            if block_id == PROVIDER_BLOCK:
                if value in registry:
                    provider = value
            else:
                values[block_id] = value
    return FormState(provider=provider, values=values)


def request_from_form(form: FormState, registry: ProviderRegistry) -> ResendRequest:
    """The typed request, or `InvalidReferenceError` whose fields are the modal's block ids."""
    if form.provider is None or form.provider not in registry:
        raise InvalidReferenceError({PROVIDER_BLOCK: FieldProblem(PROVIDER_REQUIRED)})
    request: ResendRequest = registry[form.provider].build_request(form.values)
    return request


#: Time zones of the countries the shipped providers serve, for a first guess of the
#: provider an agent works with (a zone not listed matches a provider's own zone only).
_COUNTRY_ZONES: Final[dict[str, tuple[str, ...]]] = {
    "AR": (
        "America/Argentina/",
        "America/Buenos_Aires",
        "America/Catamarca",
        "America/Cordoba",
        "America/Jujuy",
        "America/Mendoza",
        "America/Rosario",
    ),
    "MX": (
        "America/Mexico_City",
        "America/Bahia_Banderas",
        "America/Cancun",
        "America/Chihuahua",
        "America/Ciudad_Juarez",
        "America/Ensenada",
        "America/Hermosillo",
        "America/Matamoros",
        "America/Mazatlan",
        "America/Merida",
        "America/Monterrey",
        "America/Ojinaga",
        "America/Tijuana",
        "Mexico/",
    ),
}


def default_provider(
    registry: ProviderRegistry,
    configured: Mapping[str, bool],
    *,
    last_used: str | None = None,
    agent_tz: str | None = None,
) -> str | None:
    """The provider a blank modal starts on: the one the agent used last, else the one of
    the agent's country (by Slack time zone); None leaves the modal's own default."""
    if last_used is not None and configured.get(last_used):
        return last_used
    if not agent_tz:
        return None
    for key, provider in registry.items():
        zones = _COUNTRY_ZONES.get(provider.country, ())
        in_country = any(
            agent_tz == z or (z.endswith("/") and agent_tz.startswith(z)) for z in zones
        )
        if configured.get(key) and (in_country or agent_tz == provider.timezone):
            return key
    return None
