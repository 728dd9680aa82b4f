"""Talking to Slack: the Web API client, message delivery with fallbacks, user lookups."""
