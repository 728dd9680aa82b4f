"""Reading what a Slack message says: its text, attachments and blocks, and its thread."""

from __future__ import annotations

from bot.slack.messages import message_text, thread_of

VOUCHER = "FACTURA B 0002-00000006"
LUMMY_ID = "550e8400-e29b-41d4-a716-446655440000"


def test_a_persons_message_is_its_text() -> None:
    assert message_text({"type": "message", "text": f"No me llegó la {VOUCHER}"}) == (
        f"No me llegó la {VOUCHER}"
    )


def test_a_notification_says_things_in_attachments_and_blocks() -> None:
    notification = {
        "text": "",
        "attachments": [
            {
                "fallback": "Ticket #4522",
                "title": "Ticket #4522",
                "title_link": f"https://app.lummy.io/invoices/{LUMMY_ID}",
                "fields": [{"title": "Comprobante", "value": VOUCHER}],
                "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Urgente"}}],
            }
        ],
        "blocks": [
            {
                "type": "rich_text",
                "elements": [
                    {
                        "type": "rich_text_section",
                        "elements": [
                            {"type": "text", "text": "Factura "},
                            {"type": "text", "text": "B 0002-00000006", "style": {"bold": True}},
                            {"type": "link", "url": "https://zendesk.example/t/4522"},
                        ],
                    }
                ],
            },
            {"type": "section", "fields": [{"type": "mrkdwn", "text": "*Cliente*\nana@x.com"}]},
        ],
    }
    lines = message_text(notification).split("\n")
    assert lines == [
        "Ticket #4522",
        f"https://app.lummy.io/invoices/{LUMMY_ID}",
        "Ticket #4522",
        "Comprobante",
        VOUCHER,
        "Urgente",
        "Factura",
        "B 0002-00000006",
        "https://zendesk.example/t/4522",
        "*Cliente*",
        "ana@x.com",
    ]


def test_odd_shapes_are_read_as_far_as_they_go() -> None:
    assert message_text({}) == ""
    assert message_text({"text": None, "attachments": ["x", None], "blocks": "y"}) == ""


def test_the_thread_of_a_message_and_of_a_reply() -> None:
    assert thread_of({"ts": "1.000100"}) == "1.000100"
    assert thread_of({"ts": "2.000200", "thread_ts": "1.000100"}) == "1.000100"
    assert thread_of({}) is None
