"""Block Kit primitives: escaping and Slack's limits."""

from __future__ import annotations

from bot.ui.blocks import SECTION_LIMIT, clip, context_block, escape, option_object, section_block


def test_escape_handles_the_ampersand_first() -> None:
    assert escape("<&>") == "&lt;&amp;&gt;"
    assert escape("&lt;") == "&amp;lt;"


def test_long_text_is_clipped_with_an_ellipsis_and_short_text_kept() -> None:
    assert clip("corto") == "corto"
    clipped = clip("x" * 5000)
    assert len(clipped) == SECTION_LIMIT
    assert clipped.endswith("x…")
    assert section_block("x" * 5000)["text"]["text"] == clipped


def test_context_keeps_slacks_ten_elements_and_options_their_75_characters() -> None:
    assert len(context_block(*["nota"] * 12)["elements"]) == 10
    option = option_object("o" * 100, "v", "d" * 100)
    assert len(option["text"]["text"]) == 75
    assert len(option["description"]["text"]) == 75
    assert "description" not in option_object("o", "v")
