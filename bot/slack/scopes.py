"""The OAuth scopes the bot's token needs: the bot scopes ``manifest.yml`` requests.

The manifest is not part of the installed package, so the list ships here too; a test
keeps the two equal.
"""

from __future__ import annotations

from typing import Final

#: Least privilege, in the manifest's order: nothing here reads messages or channel history.
BOT_SCOPES: Final[tuple[str, ...]] = (
    "commands",
    "chat:write",
    "chat:write.public",
    "users:read",
    "usergroups:read",
)
#: The scope an app-level token needs to open Socket Mode connections.
SOCKET_MODE_SCOPE: Final = "connections:write"
#: What ``conversations.info`` needs for public channels: left out of the manifest on purpose.
CHANNELS_READ: Final = "channels:read"
USERS_READ: Final = "users:read"
USERGROUPS_READ: Final = "usergroups:read"
