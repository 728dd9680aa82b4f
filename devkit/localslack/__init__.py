"""A local stand-in for Slack: a fake Web API and a signed request sender.

Also the helper that runs the bot as a child process (`devkit.localslack.process`),
shared by the demo and the end-to-end tests.
"""

from devkit.localslack.dispatch import ApiCall
from devkit.localslack.faults import InjectedFailure
from devkit.localslack.payloads import (
    button_action,
    checkboxes_value,
    email_value,
    plain_text_value,
    radio_action,
    radio_value,
    static_select_action,
    static_select_value,
)
from devkit.localslack.protocol import SlackApiRefusal
from devkit.localslack.sender import SenderResponse, SlackEventSender, sign
from devkit.localslack.webapi import FakeSlackWebAPI
from devkit.localslack.workspace import (
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
