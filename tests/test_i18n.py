"""The Chinese catalogue against the code: every marked string translated, placeholders kept, the compiled
catalogue current, nothing translated before a session's language is known, and the shipped font able to draw
every character the catalogue uses."""

from __future__ import annotations

import ast
import gettext
import re
import string
import threading
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from playground import i18n, scheduler
from playground.assets import CJK_FONT_PATH

ROOT = Path(__file__).resolve().parents[1]
PO_PATH = i18n.LOCALE_DIR / "zh" / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


def _marked() -> dict[str, list[str]]:
    """Every string the code marks for translation (as babel.cfg says where to look), with where it is."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        ROOT, method_map, options_map, keywords={"_": None, "N_": None, "ngettext": (1, 2)},
    ):
        ids = message if isinstance(message, tuple) else (message,)
        found.setdefault(ids[0], []).append(f"{filename}:{lineno}")
    return found


@pytest.fixture(scope="module")
def marked() -> dict[str, list[str]]:
    return _marked()


@pytest.fixture(scope="module")
def catalogue():
    with PO_PATH.open("rb") as po:
        return read_po(po)


def _strings(entry) -> list[str]:
    return list(entry.string) if isinstance(entry.string, tuple) else [entry.string]


def _fields(text: str) -> set[str]:
    return {name for _literal, name, _spec, _conversion in string.Formatter().parse(text) if name is not None}


def test_the_code_marks_strings_for_translation(marked):
    assert len(marked) > 500, "the extractor found too few marked strings: is babel.cfg still right?"


def test_every_marked_string_has_a_chinese_translation(marked, catalogue):
    missing = [f"{where[0]}: {msgid[:70]!r}" for msgid, where in marked.items()
               if catalogue.get(msgid) is None or catalogue.get(msgid).fuzzy or not all(_strings(catalogue.get(msgid)))]
    assert not missing, f"{len(missing)} untranslated (run pybabel update, then translate):\n" + "\n".join(missing)


def test_the_catalogue_holds_no_string_the_code_no_longer_marks(marked, catalogue):
    stale = [entry.id for entry in catalogue if entry.id and (entry.id[0] if isinstance(entry.id, tuple)
                                                               else entry.id) not in marked]
    assert not stale, f"{len(stale)} obsolete entries, e.g. {stale[:3]}"


def test_translations_keep_every_placeholder(catalogue):
    wrong = [(entry.id, text) for entry in catalogue if entry.id for text in _strings(entry)
             if _fields(entry.id if isinstance(entry.id, str) else entry.id[0]) != _fields(text)]
    assert not wrong, wrong[:5]


def test_sentences_are_translated_into_chinese(catalogue):
    # A message with words in it must read as Chinese, not as the English copied over.
    english = [entry.id for entry in catalogue if entry.id and re.search(r"[a-z]{3,}", str(entry.id))
               and not any(CJK.search(text) for text in _strings(entry))]
    assert not english, f"{len(english)} left in English, e.g. {english[:5]}"


def test_the_compiled_catalogue_matches_the_po_file(catalogue):
    with (PO_PATH.with_suffix(".mo")).open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)
    for entry in catalogue:
        if entry.id and isinstance(entry.id, str):
            assert compiled.gettext(entry.id) == entry.string, f"stale .mo (run pybabel compile): {entry.id[:60]!r}"


def _import_time_calls(path: Path) -> list[int]:
    """Lines where ``_()`` or ``ngettext()`` runs when the module is imported, before any session's language."""
    lines: list[int] = []

    def visit(node: ast.AST, deferred: bool) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for runs_now in [*node.args.defaults, *node.args.kw_defaults, *node.decorator_list]:
                if runs_now is not None:
                    visit(runs_now, deferred)
            for statement in node.body:
                visit(statement, True)
            return
        if isinstance(node, ast.Lambda):
            deferred = True
        if (not deferred and isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id in ("_", "ngettext")):
            lines.append(node.lineno)
        for child in ast.iter_child_nodes(node):
            visit(child, deferred)

    visit(ast.parse(path.read_text()), False)
    return lines


def test_no_module_translates_before_a_session_asks():
    # Imported once per server, a module-level _() would freeze English for every session. The page scripts
    # (app_pages/<page>.py) and app.py run on every visit, so they may.
    modules = [p for p in [*ROOT.glob("app_pages/ui/*.py"), *ROOT.glob("playground/**/*.py"), ROOT / "app_pages"
                           / "__init__.py"]]
    early = {str(p.relative_to(ROOT)): lines for p in modules if (lines := _import_time_calls(p))}
    assert not early, f"use N_() at import time and _() where the string is shown: {early}"


def test_the_shipped_font_draws_every_chinese_character(catalogue):
    from fontTools.ttLib import TTFont

    used = set("".join(text for entry in catalogue if entry.id for text in _strings(entry)))
    used |= set(i18n.untranslated_text())
    cjk = {char for char in used if CJK.match(char)}
    drawn = set(map(chr, TTFont(CJK_FONT_PATH).getBestCmap()))
    assert cjk - drawn == set(), f"rebuild the font (python -m playground.build_assets font): {sorted(cjk - drawn)}"


def test_chinese_comes_back_from_the_catalogue():
    with i18n.using("zh"):
        assert i18n._("Attack") != "Attack" and CJK.search(i18n._("Attack"))
    assert i18n._("Attack") == "Attack"  # English is the default outside ``using``


def test_the_language_belongs_to_one_thread():
    seen = {}

    def other_thread() -> None:
        seen["language"] = i18n.language()

    with i18n.using("zh"):
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
        assert i18n.language() == "zh"
    assert seen["language"] == i18n.DEFAULT


def test_unknown_languages_are_refused():
    with pytest.raises(ValueError, match="Expected a language"), i18n.using("xx"):
        pass


def test_a_scheduled_job_runs_in_the_language_of_the_session_that_submitted_it():
    class Says(scheduler.Job):
        def __init__(self) -> None:
            super().__init__()
            self.done = threading.Event()

        def run_slice(self, budget: float) -> None:
            self.said = i18n._("Attack")
            self.done.set()

    job = Says()
    with i18n.using("zh"):
        scheduler.Scheduler(workers=1).submit(job)
    assert job.done.wait(10)
    with i18n.using("zh"):
        assert job.said == i18n._("Attack") != "Attack"
