"""The language of what a student reads: gettext catalogues (``playground/locale``), chosen per session.

Code marks each visible string where it is written. ``_("...")`` translates it there and then; a string
declared at import time (a label in a registry, a setting's help) is marked with ``N_("...")`` instead and
translated where it is shown, since the language is only known once a session asks. Values go in with
``str.format`` after translation, so the catalogue holds one sentence with named gaps:
``_("Trained {epochs} epochs").format(epochs=n)``.

The language is the one set with ``using`` (the command line and tests use English, the default); else the
one ``set_resolver``'s function gives (the app's: the session's choice); else English. Work that runs on
another thread carries its session's language there (``playground.scheduler``).

The catalogues are written with Babel: ``pybabel extract -F babel.cfg -o playground/locale/messages.pot .``,
``pybabel update -i playground/locale/messages.pot -d playground/locale`` and
``pybabel compile -d playground/locale``. tests/test_i18n.py fails on any marked string left untranslated.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import gettext
from collections.abc import Callable, Iterator
from pathlib import Path

LANGUAGES = {"en": "English", "zh": "简体中文"}  # code (as in ?lang=) -> its name, in itself
SWITCH_LABEL = "Language · 语言"  # the same in every language: whoever reads either finds it
DEFAULT = "en"  # the language the code is written in
DOMAIN = "messages"
LOCALE_DIR = Path(__file__).with_name("locale")

_chosen: contextvars.ContextVar[str | None] = contextvars.ContextVar("playground_language", default=None)
_resolver: Callable[[], str | None] = lambda: None  # noqa: E731


def language() -> str:
    """The language strings are translated into here and now."""
    return _chosen.get() or _resolver() or DEFAULT


def set_resolver(resolver: Callable[[], str | None]) -> None:
    """Where ``language`` looks when ``using`` chose none: the app passes a function that reads the session's
    choice (and returns None outside a session)."""
    global _resolver
    _resolver = resolver


@contextlib.contextmanager
def using(code: str) -> Iterator[None]:
    """Translates into ``code`` inside the ``with`` block (this thread or task only)."""
    if code not in LANGUAGES:
        raise ValueError(f"Expected a language in {sorted(LANGUAGES)}. Received: {code!r}")
    token = _chosen.set(code)
    try:
        yield
    finally:
        _chosen.reset(token)


@functools.cache
def catalogue(code: str) -> gettext.NullTranslations:
    """``code``'s compiled catalogue; English, the source language, needs none."""
    if code == DEFAULT:
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[code])


def untranslated_text() -> str:
    """What the UI shows in Chinese outside the catalogue: the switch's label and the languages' own names."""
    return SWITCH_LABEL + "".join(LANGUAGES.values())


def _(message: str) -> str:
    """``message`` in the current language."""
    return catalogue(language()).gettext(message) if message else message


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of a message that fits the count ``n`` (Chinese has one form, English two)."""
    return catalogue(language()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks ``message`` for the catalogue without translating it: ``_()`` translates it where it is shown."""
    return message
