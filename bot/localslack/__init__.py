"""A local stand-in for Slack: a fake Web API and a signed request sender.

Also the helper that runs the bot as a child process (`bot.localslack.process`),
shared by the demo and the end-to-end tests.
"""

from bot.localslack.dispatch import ApiCall
from bot.localslack.faults import InjectedFailure
from bot.localslack.payloads import (
    button_action,
    checkboxes_value,
    email_value,
    plain_text_value,
    radio_action,
    radio_value,
    static_select_action,
    static_select_value,
)
from bot.localslack.protocol import SlackApiRefusal
from bot.localslack.sender import SenderResponse, SlackEventSender, sign
from bot.localslack.webapi import FakeSlackWebAPI
from bot.localslack.workspace import (
    Channel,
    EphemeralMessage,
    Message,
    ResponseUrl,
    ResponseUrlMessage,
    Trigger,
    User,
)

__all__ = [
    "ApiCall",
    "Channel",
    "EphemeralMessage",
    "FakeSlackWebAPI",
    "InjectedFailure",
    "Message",
    "ResponseUrl",
    "ResponseUrlMessage",
    "SenderResponse",
    "SlackApiRefusal",
    "SlackEventSender",
    "Trigger",
    "User",
    "button_action",
    "checkboxes_value",
    "email_value",
    "plain_text_value",
    "radio_action",
    "radio_value",
    "sign",
    "static_select_action",
    "static_select_value",
]
