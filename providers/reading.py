"""What an agent typed: a provider's reference to re-send, or what a customer quoted.

`read_agent_text` is the one reader that decides, and this is its precedence:

1. Nothing typed: a blank form (`ToResend` with no text).
2. A leading provider word (``lummy``, ``tf``) is set aside; it decides only where the
   rest fits more than one reading.
3. Text a provider surely recognizes as its reference (``FC B 2-6``, a Lummy id or
   link) goes to the re-send fields.
4. Otherwise a customer identifier goes to search (`ToSearch`): a CUIT or an RFC, an
   e-mail alone, a date, a serie-folio, or a name after ``buscar``. A tax id is
   searched in the provider of its country; a provider word that names another one
   is overruled, and the search says so.
5. A customer identifier that cannot be right (a CUIT's check digit, a date that does
   not exist or lies ahead) is that problem (`SearchProblem`): nothing is searched.
6. Anything else is the re-send parser's (``0002-00000006`` may be a voucher): it
   prefills what it understood and explains the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from providers.base import FieldProblem, Recognition
from providers.customers import (
    CUIT_CHECK_DIGIT,
    NOTHING_TO_SEARCH,
    CustomerQuery,
    SearchKind,
    read_customer_query,
)
from providers.registry import AnyProvider, ProviderRegistry, after_first_word


@dataclass(frozen=True)
class ToResend:
    """Text for the re-send fields, as `ProviderRegistry.parse_reference` reads it."""

    text: str


@dataclass(frozen=True)
class ToSearch:
    """What to search by, and where."""

    query: CustomerQuery
    #: The provider to search in; None: every provider that can, and the history.
    provider: str | None = None
    #: The provider word the agent typed, when the query belongs to another provider.
    overruled: str | None = None


@dataclass(frozen=True)
class SearchProblem:
    """A customer identifier that cannot be right; nothing is searched."""

    problem: FieldProblem
    #: The provider whose search it was meant for, when the identifier says.
    provider: str | None = None


AgentText = ToResend | ToSearch | SearchProblem


def read_agent_text(text: str, registry: ProviderRegistry, *, today: date) -> AgentText:
    """What ``text`` asks for, by the precedence above."""
    stripped = text.strip()
    if not stripped:
        return ToResend("")
    word = registry.provider_word(stripped)
    named = word[1] if word is not None else None
    rest = after_first_word(stripped) if word is not None else stripped
    if any(p.recognizes(rest) is Recognition.SURE for p in registry.values()):
        return ToResend(stripped)
    read = read_customer_query(rest, today=today)
    if isinstance(read, CustomerQuery):
        return _search(read, named, registry)
    if read.code != NOTHING_TO_SEARCH:
        return SearchProblem(read, provider=_owner(_problem_kind(read), registry))
    return ToResend(stripped)


def _search(
    query: CustomerQuery, named: AnyProvider | None, registry: ProviderRegistry
) -> ToSearch:
    owner = _owner(query.kind, registry)
    if owner is None:
        return ToSearch(query, provider=named.key if named is not None else None)
    overruled = named.key if named is not None and named.key != owner else None
    return ToSearch(query, provider=owner, overruled=overruled)


def _owner(kind: SearchKind | None, registry: ProviderRegistry) -> str | None:
    """The provider whose country's tax id ``kind`` is, if any."""
    if kind is None:
        return None
    return next((key for key, p in registry.items() if p.tax_id is kind), None)


def _problem_kind(problem: FieldProblem) -> SearchKind | None:
    """What the identifier with ``problem`` was (a CUIT with a wrong check digit)."""
    return SearchKind.CUIT if problem.code == CUIT_CHECK_DIGIT else None
