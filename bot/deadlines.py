"""Every time budget of the bot, in seconds, and why each is what it is.

Two limits come from Slack and bound everything done before an answer:

- Slack shows the agent an error unless a request is acked within `SLACK_ACK_LIMIT`;
- a ``trigger_id`` (needed to open a modal) dies `TRIGGER_LIFETIME` after the click.

The pre-ack budgets are derived from them, keeping `NETWORK_MARGIN` for the trip
to Slack and Bolt's own work. Everything after the ack is bounded too (nothing
waits forever), by what the agent can bear to wait or what the dependency needs.
The provider calls' own timeouts are settings (``PROVIDER_CONNECT_TIMEOUT``,
``PROVIDER_READ_TIMEOUT``), since they depend on the provider's account.
"""

from __future__ import annotations

from typing import Final

# -- Slack's limits ---------------------------------------------------------------

#: Slack's deadline for the ack of any request (command, action, submission, event).
SLACK_ACK_LIMIT: Final = 3.0
#: How long a ``trigger_id`` can open a modal after the agent's click.
TRIGGER_LIFETIME: Final = 3.0
#: Kept out of every pre-ack budget: the request's trip from and to Slack, and Bolt.
NETWORK_MARGIN: Final = 0.6

# -- before the ack ---------------------------------------------------------------

#: The whole decision at submit (access, quota, duplicate guard), from the request's
#: arrival to the ack: what Slack's limit leaves after the margin.
PRE_ACK_BUDGET: Final = SLACK_ACK_LIMIT - NETWORK_MARGIN
#: The access check (a user group lookup at Slack): under half of `PRE_ACK_BUDGET`,
#: so a slow Slack still leaves the store its share.
ACCESS_CHECK: Final = 1.0
#: One history read or claim before the ack (the duplicate guard). The guard gets
#: whatever the access check left of `PRE_ACK_BUDGET`, never less than this.
STORE_PRE_ACK: Final = 1.0
#: The agent's time zone for a quota refusal at submit (Slack's users.info, usually
#: cached by the modal's first look); past it the provider's zone is named instead.
AGENT_TIMEZONE: Final = 0.3
#: Finding the provider a blank modal starts on: it runs between the access check and
#: ``views.open``, so both fit in the trigger's life with time to reach Slack.
USUAL_PROVIDER: Final = 0.6

# -- after the ack: Slack ---------------------------------------------------------

#: ``views.open``: past the trigger's life Slack refuses anyway; a little more tells a
#: slow answer apart from a lost one.
VIEWS_OPEN: Final = TRIGGER_LIFETIME + 1.0
#: Any other Web API call (slack-sdk's retries of a 429 come on top).
SLACK_CALL: Final = 15.0
#: Posting or updating an outcome in a channel, retries included: past it the next
#: route (the ``response_url``, then the DM) is taken, so a hung or long-throttled
#: Slack delays an outcome by seconds, not by a 15 s call or a ``Retry-After: 10``.
#: A short ``Retry-After`` (a second or two) is still waited for in place.
SLACK_DELIVERY: Final = 4.0
#: Posting through a ``response_url``.
RESPONSE_URL: Final = 10.0
#: The links to outcome messages the Home lists (the Home is shown without them).
HOME_LINKS: Final = 2.0

# -- after the ack: the history store ---------------------------------------------

#: A history read for the Home tab (shown with a notice without it).
HOME_HISTORY: Final = 2.0
#: The workflow step's claim of an execution id; past it, the process's memory decides.
STEP_CLAIM: Final = 2.0
#: The most writing an attempt down may delay its provider call.
JOURNAL_WRITE: Final = 1.0
#: Waiting for a pooled connection to the store.
STORE_POOL: Final = 2.0
#: A SQLite statement waiting for another process' write before failing.
SQLITE_BUSY: Final = 2.0
#: The store's health check; slower marks it unavailable.
STORE_HEALTH_CHECK: Final = 3.0
#: Writing the outbox's queued rows into the store, per health tick.
OUTBOX_FLUSH: Final = 30.0

# -- after the ack: the providers -------------------------------------------------

#: A lookup for the preview; the bot goes on without it (the outcome never waits for a
#: lookup past the re-send's own answer).
LOOKUP: Final = 2.0
#: Waiting for one of a provider's lookup slots: a lookup that cannot start within the
#: preview's bound would show nothing, so it is skipped.
LOOKUP_SLOT: Final = LOOKUP
#: A search from what the customer said, once the modal is open (it shows what came
#: in time, and typing a reference by hand never waits for it).
SEARCH: Final = 3.0

# -- operations -------------------------------------------------------------------

#: Each check of ``reenviar-bot doctor``, unless ``--timeout`` says otherwise.
DOCTOR_CHECK: Final = 10.0
