"""The answerer most FAQ tests ask: the bundled topics, no log of unanswered questions, the real clock."""

from __future__ import annotations

import pytest

from faq.answerer import FaqAnswerer


@pytest.fixture(scope="module")
def answerer() -> FaqAnswerer:
    return FaqAnswerer()
