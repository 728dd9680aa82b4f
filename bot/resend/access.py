"""Who may re-send, from where, and who may send to an alternative e-mail.

Checks use Slack ids only. User group membership comes from
``usergroups.users.list``, cached for a short time and refreshed when a user is
not found in the cached list (someone just added to the group is not refused
for minutes). Checks that guard a send (``fresh=True``: at submit, on
Reintentar) trust only a list a few seconds old, so a member removed from the
group is refused within seconds even if Slack's event about it is lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import structlog

from bot.slack.directory import UsergroupDirectory
from bot.ui import strings

log = structlog.get_logger(__name__)


class AlternativeEmailPolicy(StrEnum):
    """Who may send an invoice to an address other than the customer's."""

    OFF = "off"
    LISTED = "listed"
    EVERYONE = "everyone"


@dataclass(frozen=True)
class Refusal:
    """Why an agent may not do something: a code for logs, a Spanish sentence for them."""

    code: str
    message: str


@dataclass(frozen=True)
class AccessRules:
    """The configured lists; empty lists mean "no restriction" for that dimension."""

    user_ids: frozenset[str] = frozenset()
    usergroup_ids: frozenset[str] = frozenset()
    channel_ids: frozenset[str] = frozenset()
    alternative_email: AlternativeEmailPolicy = AlternativeEmailPolicy.EVERYONE
    alternative_email_user_ids: frozenset[str] = frozenset()
    alternative_email_usergroup_ids: frozenset[str] = frozenset()
    alternative_email_domains: frozenset[str] = frozenset()

    @property
    def open_to_everyone(self) -> bool:
        """No user, group or channel restriction at all."""
        return not (self.user_ids or self.usergroup_ids or self.channel_ids)


class AccessPolicy:
    """Answers "may this agent re-send here?" and "may they use an alternative e-mail?"."""

    def __init__(self, rules: AccessRules, groups: UsergroupDirectory) -> None:
        self.rules = rules
        self._groups = groups

    async def check(
        self, user_id: str, channel_id: str | None, *, fresh: bool = False
    ) -> Refusal | None:
        """None when allowed; otherwise what is missing (never who is allowed).

        ``fresh``: user group membership no more than a few seconds old (see module doc).
        """
        rules = self.rules
        if rules.channel_ids and channel_id not in rules.channel_ids:
            return Refusal("channel_not_allowed", strings.REFUSED_CHANNEL)
        if not (rules.user_ids or rules.usergroup_ids):
            return None
        if user_id in rules.user_ids:
            return None
        if rules.usergroup_ids and await self._groups.is_member(
            user_id, rules.usergroup_ids, fresh=fresh
        ):
            return None
        return Refusal("user_not_allowed", strings.REFUSED_USER)

    async def check_alternative_email(
        self, user_id: str, email: str, *, fresh: bool = False
    ) -> Refusal | None:
        """None when this agent may send to ``email`` instead of the customer's address."""
        rules = self.rules
        if rules.alternative_email is AlternativeEmailPolicy.OFF:
            return Refusal("alternative_email_off", strings.REFUSED_ALT_EMAIL_OFF)
        if rules.alternative_email is AlternativeEmailPolicy.LISTED:
            listed = user_id in rules.alternative_email_user_ids or (
                bool(rules.alternative_email_usergroup_ids)
                and await self._groups.is_member(
                    user_id, rules.alternative_email_usergroup_ids, fresh=fresh
                )
            )
            if not listed:
                return Refusal("alternative_email_not_allowed", strings.REFUSED_ALT_EMAIL_USER)
        domain = email.rsplit("@", 1)[-1].lower()
        if rules.alternative_email_domains and domain not in rules.alternative_email_domains:
            return Refusal(
                "alternative_email_domain",
                strings.REFUSED_ALT_EMAIL_DOMAIN.format(domain=domain),
            )
        return None
