"""The App Home tab: the agent's latest attempts, the button, valid Block Kit."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.ui import strings
from bot.ui.home_tab import HOME_OPEN_ACTION, home_view
from tests.blockkit import assert_valid_home
from tests.bot.ui.conftest import LEAKS, attempt_record, texts
from tests.conftest import REGISTRY


def test_home_lists_attempts_with_outcome_recipients_and_link() -> None:
    records = [
        attempt_record(5),
        attempt_record(
            60,
            provider="tusfacturas",
            reference="FACTURA B 0002-00000006 <script>",
            outcome="refused",
            detail="channel_not_allowed",
            recipients=(),
        ),
    ]
    view = home_view(
        records,
        registry=REGISTRY,
        links={"a5": "https://acme.slack.com/archives/C0SUPPORT/p1741631400000100"},
        agent_tz="America/Argentina/Buenos_Aires",
    )
    assert_valid_home(view)
    lines = [
        b["text"]["text"]
        for b in view["blocks"]
        if b["type"] == "section" and b["text"]["text"].startswith("• ")
    ]
    (sent,) = [line for line in lines if "Factura 550e8400" in line]
    assert sent.startswith("• 10/03 15:25 · ")  # in the agent's time zone
    assert "(Lummy) · enviada · cliente@empresa.com" in sent
    assert sent.endswith("|ver mensaje>")
    (refused,) = [line for line in lines if "0002-00000006" in line]
    assert "&lt;script&gt;" in refused
    assert "no permitido · canal no habilitado" in refused
    assert "ver mensaje" not in refused
    assert HOME_OPEN_ACTION in json.dumps(view)
    assert not [leak for leak in LEAKS if leak in "\n".join(texts(view["blocks"]))]


@pytest.mark.parametrize(
    ("records", "shown"),
    [(None, strings.HOME_UNAVAILABLE), ([], strings.HOME_EMPTY)],
)
def test_home_without_attempts_says_why_in_one_line(records: Any, shown: str) -> None:
    view = home_view(records, registry=REGISTRY)
    assert_valid_home(view)
    (notice,) = [b for b in view["blocks"] if shown in json.dumps(b, ensure_ascii=False)]
    assert notice["type"] == "context"


def test_home_refusal_replaces_the_button() -> None:
    view = home_view([], registry=REGISTRY, refusal="Sin <permiso>.")
    assert_valid_home(view)
    assert HOME_OPEN_ACTION not in json.dumps(view)
    assert "Sin &lt;permiso&gt;." in json.dumps(view)


def test_home_with_twenty_attempts_is_valid() -> None:
    view = home_view([attempt_record(n) for n in range(20)], registry=REGISTRY)
    assert_valid_home(view)
    assert len(view["blocks"]) <= 100


def test_a_quota_refusal_in_the_home_reads_as_the_providers_limit() -> None:
    records = [attempt_record(5, outcome="refused", detail="quota_exhausted", recipients=())]
    view = home_view(records, registry=REGISTRY)
    assert_valid_home(view)
    (line,) = [t for t in texts(view) if t.startswith("• ")]
    assert "· límite de Lummy" in line
    assert strings.OUTCOME_LABELS["refused"] not in line


def test_a_tusfacturas_throttle_is_not_called_a_limit() -> None:
    records = [
        attempt_record(
            5,
            provider="tusfacturas",
            reference="FACTURA B 0002-00000006",
            outcome="rate_limited",
            recipients=(),
        )
    ]
    view = home_view(records, registry=REGISTRY)
    (line,) = [t for t in texts(view) if t.startswith("• ")]
    assert "frenada por exceso de solicitudes" in line
    assert "límite" not in line
