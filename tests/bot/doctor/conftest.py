"""A workplace where every check passes: the fake Slack in Socket Mode with the members,
user groups and channels the settings name, TusFacturas with a default credential set and
one for punto de venta 2, Lummy; and the settings that point at them."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from devkit.emulators import LummyEmulator, TusFacturasEmulator
from devkit.emulators.tusfacturas import TusFacturasCredentials as EmulatorCredentials
from devkit.localslack import FakeSlackWebAPI
from tests.conftest import (
    AGENT,
    BOT_TOKEN,
    CHANNEL,
    OTHER_AGENT,
    TF_APIKEY,
    TF_APITOKEN,
    TF_USERTOKEN,
    make_settings,
)
from tests.processes import fake_settings

APP_TOKEN = "xapp-1-doctor-app"
GROUP = "S0SUPPORT"
AUDIT = "C0AUDIT01"
#: TusFacturas' credential set for punto de venta 2 only.
PV2 = EmulatorCredentials("tf-pv2-apikey", "tf-pv2-apitoken", "tf-pv2-usertoken", punto_venta=2)
PV2_JSON = json.dumps(
    {"2": {"apikey": PV2.apikey, "apitoken": PV2.apitoken, "usertoken": PV2.usertoken}}
)


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlackWebAPI]:
    """The workspace the settings name: two agents, their group, two channels."""
    async with FakeSlackWebAPI(bot_token=BOT_TOKEN, app_token=APP_TOKEN) as fake:
        fake.add_user(AGENT, "ana", "Ana Pérez")
        fake.add_user(OTHER_AGENT, "beto", "Beto Ruiz", tz="America/Mexico_City")
        fake.add_usergroup(GROUP, [AGENT, OTHER_AGENT], handle="soporte")
        fake.add_channel(CHANNEL, "soporte")
        fake.add_channel(AUDIT, "auditoria")
        yield fake


@pytest.fixture
async def tusfacturas() -> AsyncIterator[TusFacturasEmulator]:
    """TusFacturas with a default credential set (every punto de venta) and one for 2."""
    default = EmulatorCredentials(TF_APIKEY, TF_APITOKEN, TF_USERTOKEN)
    async with TusFacturasEmulator([default, PV2], requests_per_second=1000) as emulator:
        yield emulator


@pytest.fixture
def environment(
    slack: FakeSlackWebAPI,
    lummy: LummyEmulator,
    tusfacturas: TusFacturasEmulator,
    tmp_path: Path,
) -> dict[str, str]:
    """The variables of a bot for which every check passes (Socket Mode, SQLite)."""
    return {
        **fake_settings(slack, lummy, tusfacturas, app_token=APP_TOKEN),
        "TUSFACTURAS_CREDENTIALS": PV2_JSON,
        "AUDIT_CHANNEL_ID": AUDIT,
        "ALLOWED_USER_IDS": f"{AGENT},{OTHER_AGENT}",
        "ALLOWED_USERGROUP_IDS": GROUP,
        "ALLOWED_CHANNEL_IDS": CHANNEL,
        "DATA_DIR": str(tmp_path / "data"),
    }


@pytest.fixture
def settings(environment: dict[str, str]) -> Settings:
    """The same, as loaded settings (for the checks run in this process)."""
    return settings_from(environment)


def settings_from(environment: dict[str, str], **changes: Any) -> Settings:
    """Settings from ``environment`` with ``changes``, named like the variables, lower-case."""
    values: dict[str, Any] = {name.lower(): value for name, value in environment.items()}
    # Keyword settings are not decoded like the environment's JSON.
    values["tusfacturas_credentials"] = json.loads(environment["TUSFACTURAS_CREDENTIALS"])
    return make_settings(**{**values, **changes})
