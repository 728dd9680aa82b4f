"""``make bench``: the production bot, black-box, under load against local fakes.

The bot runs as a child process (``python -m bot serve --http``) pointed at a lean
fake Slack Web API and the provider emulators, all served by this process on
127.0.0.1. Signed Slack requests drive it the way Slack would. Nothing here imports
``bot`` or ``handlers``: the benchmark depends only on the HTTP interface and on
``devkit.emulators``. See the "Benchmark" section of the README.
"""
