"""Every panel's "What does this mean?" is used by a page, says it in two sentences, and keeps its formula."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app_pages.ui import plain_words

PAGES = Path(__file__).resolve().parent.parent / "app_pages"
SOURCES = "\n".join(path.read_text() for path in PAGES.rglob("*.py"))


@pytest.mark.parametrize("panel", sorted(plain_words.EXPLANATIONS))
def test_each_explanation_is_shown_by_a_page(panel):
    assert f'explain("{panel}"' in SOURCES


@pytest.mark.parametrize("panel", sorted(plain_words.EXPLANATIONS))
def test_each_explanation_is_two_plain_sentences_and_a_formula(panel):
    words = plain_words.EXPLANATIONS[panel]
    sentences = re.findall(r"[^.!?]+[.!?](?=\s|$)", words.plain)
    assert len(sentences) == 2, sentences
    # The plain part leaves the notation to the formula: no gradients, norms or Greek beyond the page's ε.
    assert not re.search(r"[∇‖∂Φσαθ∈≤≥]|\b(logit|gradient|norm)s?\b", words.plain), words.plain
    assert words.formula and words.formula != words.plain
