"""The project's own Slack CLI hooks (``.slack/hooks.json``), beside ``slack-cli-hooks``' ones.

- ``get-manifest`` prints ``manifest.yml`` as JSON: the YAML stays the one source of the
  manifest (the package's own hook reads only ``manifest.json``).
- ``start`` (``slack run``) hands the tokens the CLI passes, ``SLACK_CLI_XOXB`` and
  ``SLACK_CLI_XAPP``, to the bot as ``SLACK_BOT_TOKEN`` and ``SLACK_APP_TOKEN`` (over any
  in ``.env``: they belong to the app ``slack run`` installed), then becomes
  ``python -m bot serve``: Socket Mode, as the manifest has it.

The CLI runs hooks in the project's directory and appends ``--protocol`` and
``--boundary`` (its message-boundaries protocol), which `slack_cli_hooks.protocol` reads.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final, NoReturn

import yaml
from slack_cli_hooks.protocol import build_protocol

MANIFEST: Final = "manifest.yml"
#: What ``slack run`` passes, and the bot's names for the same tokens.
CLI_TOKENS: Final = {"SLACK_CLI_XOXB": "SLACK_BOT_TOKEN", "SLACK_CLI_XAPP": "SLACK_APP_TOKEN"}


def manifest_json(project: Path) -> str:
    """``manifest.yml`` of ``project``, as the JSON the CLI expects."""
    manifest = yaml.safe_load((project / MANIFEST).read_text(encoding="utf-8"))
    return json.dumps(manifest, ensure_ascii=False)


def bot_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` with the CLI's tokens under the names the bot reads."""
    env = dict(environ)
    for cli_name, bot_name in CLI_TOKENS.items():
        if env.get(cli_name):
            env[bot_name] = env[cli_name]
    return env


def serve_argv() -> list[str]:
    """The bot, served by this interpreter (Socket Mode when the app token is set)."""
    return [sys.executable, "-m", "bot", "serve"]


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m devkit.slack_cli {get-manifest|start}``, as the hooks file runs it."""
    arguments = list(sys.argv if argv is None else ["slack_cli", *argv])
    parser = argparse.ArgumentParser(prog="python -m devkit.slack_cli")
    parser.add_argument("hook", choices=("get-manifest", "start"))
    args, _protocol_arguments = parser.parse_known_args(arguments[1:])
    if args.hook == "start":
        start()
    try:
        manifest = manifest_json(Path.cwd())
    except (OSError, yaml.YAMLError) as exc:
        print(f"Cannot read {MANIFEST}: {exc}", file=sys.stderr)
        return 1
    build_protocol(argv=arguments).respond(manifest)
    return 0


def start() -> NoReturn:
    """Become the bot with the CLI's tokens. Replaced, not run inside: signals from the CLI
    go straight to the bot, and the serving process never loads the dev kit."""
    os.execve(sys.executable, serve_argv(), bot_environment(os.environ))  # noqa: S606


if __name__ == "__main__":
    sys.exit(main())
