"""The console's own line wrapping makes the lines `textwrap.wrap` made, which it replaced for speed."""

from __future__ import annotations

import textwrap

from hypothesis import given
from hypothesis import strategies as st

from bot.console.render import WIDTH, _hanging, _plain, wrap
from bot.conversation.messages import Text
from tests.message_catalog import catalog

WORDS = ["a", "ab", "word", "x" * 30, "-", "•", "✅", "1."]
PIECES = st.sampled_from([*WORDS, " ", "  ", "\t", "\r", "\x0b", "\x0c", "\xa0", "\u3000"])
"""Words, words longer than a line, every ASCII space textwrap turns into one, and two spaces it does not
split words at (a word of them alone is dropped as a space)."""


def _textwrap(paragraph: str, hang: str, width: int = WIDTH) -> list[str]:
    return textwrap.wrap(
        paragraph, width, subsequent_indent=hang, break_long_words=False, break_on_hyphens=False
    )


@given(
    st.lists(PIECES, max_size=40).map("".join),
    st.integers(min_value=1, max_value=60),
    st.sampled_from(["", "  ", "   ", " " * 70]),
)
def test_lines_are_wrapped_as_textwrap_wraps_them(paragraph: str, width: int, hang: str) -> None:
    assert wrap(paragraph, hang, width) == _textwrap(paragraph, hang, width)


def test_a_line_with_spaces_other_than_ascii_ones_is_wrapped_as_textwrap_wraps_it() -> None:
    paragraph = "word " * 19 + "abc \xa0 cd"  # a no-break space's word the last to fit on the line: dropped
    assert wrap(paragraph, "") == _textwrap(paragraph, "") == ["word " * 19 + "abc ", "cd"]


def test_every_paragraph_of_every_message_is_wrapped_as_textwrap_wraps_it() -> None:
    """The catalog's messages for 10 people: those for 20,000 take seconds to build, and hold paragraphs of
    the same kinds, longer."""
    for name, message in catalog(10).items():
        paragraphs = [
            paragraph
            for block in message.blocks
            if isinstance(block, Text)
            for paragraph in _plain(block.markdown).split("\n")
        ]
        for paragraph in paragraphs:
            hang = _hanging(paragraph)
            assert wrap(paragraph, hang) == _textwrap(paragraph, hang), (name, paragraph)
