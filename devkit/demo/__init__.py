"""``reenviar-bot demo``: the production bot against a local Slack and provider emulators.

Nothing here runs inside the bot. The demo starts the bot as a subprocess with
its production entry point (``python -m bot serve --http``), points it at a
local stand-in for Slack (`devkit.localslack`) and at the provider emulators
(`devkit.emulators`) through ordinary settings, and turns what the bot sends
to that stand-in into a terminal conversation.

- `devkit.demo.session`: one conversation (`DemoSession`), putting the parts below together.
- `devkit.demo.workspace`: the local Slack (@ana in #soporte) and the emulators;
  `devkit.demo.real`: the settings passed on for ``--real-providers``.
- `devkit.demo.child`: the bot process (`devkit.localslack.process` underneath).
- `devkit.demo.commands`: what a typed line means (``/reenviar``, the demo's own commands);
  `devkit.demo.faults`: ``!falla``.
- `devkit.demo.modal`: filling in a modal; `devkit.demo.buttons`: pressing a button.
- `devkit.demo.outbox`: Slack's requests to the bot, and Slack's errors when they fail.
- `devkit.demo.terminal`, `devkit.demo.watch`: what is shown, and following the workspace.
- `devkit.demo.render`: Block Kit to terminal text, modals to prompts (pure).
- `devkit.demo.script`: the scripted, non-interactive conversation format.
- `devkit.demo.cli`: ``add_demo_parser`` / ``run_demo`` for ``reenviar-bot demo``.
"""
