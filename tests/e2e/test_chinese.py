"""The Chinese UI in real Chromium: every page read in ``lang=zh`` has no English left outside an allow-list of
names and symbols, draws its Chinese in the shipped font, and keeps the language from page to page.

Screenshots of each page's first screen at 1280×720, in English and in Chinese, go to artifacts/.
"""

from __future__ import annotations

import re

import pytest

from app_pages.ui import fonts
from tests.e2e.helpers import address, wait_idle, wait_until

pytestmark = pytest.mark.e2e

PAGES = {  # URL path -> what shows the page has drawn its main figure
    "": "[data-testid='stPlotlyChart']",
    "build_and_train": "[data-testid='boundary-view']",
    "attack": "[data-testid='stImage']",
    "defend": "[data-testid='stTable'], [data-testid='stDataFrame'], [data-testid='stPlotlyChart']",
    "lessons": "[data-testid='stExpander']",
}
# Parts a page shows only with some settings, read in Chinese too (URL path, query).
MORE_VIEWS = [
    ("build_and_train", "lens=true&show_test=true"),
    ("build_and_train", "problem=regression&lens=true"),
    ("build_and_train", "dataset=custom"),
    ("attack", "targeted=true&attack=pgd"),
    ("home", "lesson=no-such-lesson"),
]

# Words that stay as they are in Chinese: names of methods, datasets, people and tools, math functions, and the
# papers the pages cite (a paper keeps its title).
ALLOWED = {
    "MNIST", "Fashion", "FGSM", "PGD", "BIM", "APGD", "AutoAttack", "Square", "DeepFool", "ART", "Carlini", "Wagner",
    "BPDA", "EOT", "CNN", "MLP", "XOR", "JPEG", "PREDICT", "CERTIFY", "ReLU", "tanh", "Tanh", "sigmoid", "Sigmoid",
    "softmax", "Softmax", "Adam", "SGD", "RMSprop", "TensorFlow", "Keras", "Playground", "CSV", "PNG", "JPG", "JSON",
    "URL", "Python", "logits", "logit", "Huber", "Hinge", "hinge", "MSE", "epoch", "English", "max", "min", "exp",
    "log", "sign", "clip", "Clopper", "Pearson", "McCulloch", "Pitts", "Goodfellow", "Shlens", "Szegedy", "Madry",
    "Athalye", "Tsipras", "Croce", "Hein", "Cohen", "Wong", "Wei", "Chen", "Song", "sin", "cos", "html",
}


def _citations() -> set[str]:
    from playground import attacks
    from playground.defences import TRANSFORMS, adversarial_training

    references = [attacks.get(name).reference for name in attacks.names()]
    references += [transform.reference for transform in TRANSFORMS.values()]
    references += [preset.reference for preset in adversarial_training.PRESETS.values()]
    return set(re.findall(r"[A-Za-z]+", " ".join(references)))


# Streamlit draws a few words of its own that an app cannot translate: the file uploader's, and the header's
# status widget, which offers "Stop" while a run lasts over half a second (as it does on a loaded server).
STREAMLIT_OWN = ("Drag and drop file here", "Browse files", "Limit ", "per file", "Skip to main content")
STREAMLIT_OWN_WORDS = {"Upload"}  # its file uploader's button

VISIBLE_TEXT = """() => {
  const skip = "style, script, noscript, pre, code, .katex, [data-testid='stIconMaterial'], .modebar, "
    + "[data-testid='stStatusWidget']";
  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, element = node.parentElement, text = node.textContent.trim();
    if (!text || !element || element.closest(skip) || element.getClientRects().length === 0) continue;
    const style = getComputedStyle(element);  // an icon is a word in an icon font: "bolt"
    if (style.visibility === "hidden" || style.fontFamily.includes("Material")) continue;
    texts.push(text);
  }
  return texts;
}"""


CITED = _citations()


def _english(texts: list[str]) -> list[tuple[str, str]]:
    """(text, word) for each English word left in what the page shows."""
    found = []
    for text in texts:
        if any(own in text for own in STREAMLIT_OWN) or text in STREAMLIT_OWN_WORDS:
            continue
        # File names, addresses and a URL's own parameters echoed back (lesson='no-such-lesson') are not words.
        words = re.sub(r"\S+\.(png|csv|keras|json|py)\b|https?://\S+|\b\w+=('[^']*'|\S+)", "", text)
        for word in re.findall(r"[A-Za-z][A-Za-z]{2,}", words):
            if word not in ALLOWED | CITED:
                found.append((text[:80], word))
    return found


# A tab and "What does this mean?" are written only while open, in the rerun that opening them starts: these
# find one that is open and shown but still empty.
# What Streamlit writes only in the rerun after a click: an open expander's words, a shown tab's contents.
OPEN_EXPANDERS = "[data-testid='stMain'] details[open] [data-testid='stExpanderDetails']"
TABS = "[data-testid='stMain'] [role='tabpanel']"
ANY_SHOWN_EMPTY = """selector => [...document.querySelectorAll(selector)]
  .some(part => part.getClientRects().length && !part.innerText.trim())"""


def _wait_written(page, selector: str, what: str) -> None:
    wait_until(lambda: not page.evaluate(ANY_SHOWN_EMPTY, selector), timeout=120, message=what)
    wait_idle(page, timeout=120)


def _open_expanders(page) -> None:
    """Opens each visible closed expander (one in a tab not shown yet opens with its tab), and waits for its words."""
    # The first visible closed one each time: once one opens it no longer matches and the later ones move up, and a
    # rerun may replace the elements themselves (a kept handle was then detached from the page).
    closed = page.locator("[data-testid='stMain'] details:not([open]) > summary")
    for _ in range(closed.count()):
        visible = [summary for summary in closed.all() if summary.is_visible()]
        if not visible:
            break
        visible[0].click()
    _wait_written(page, OPEN_EXPANDERS, "the expanders' contents")


def _open_everything(page) -> list[str]:
    """The visible text, having opened each expander and each tab in turn."""
    texts = page.evaluate(VISIBLE_TEXT)
    _open_expanders(page)
    texts += page.evaluate(VISIBLE_TEXT)
    for tab in page.get_by_role("tab").all():
        tab.click()
        _wait_written(page, TABS, "the tab's contents")
        _open_expanders(page)
        texts += page.evaluate(VISIBLE_TEXT)
    return texts


@pytest.mark.parametrize("path", list(PAGES), ids=lambda path: path or "home")
def test_every_page_reads_in_chinese_without_english_left(chromium, app_url, artifacts, path):
    context = chromium.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.set_default_timeout(90_000)
    font_responses = []
    page.on("response", lambda response: font_responses.append(response.status)
            if response.url.endswith(fonts.URL) else None)
    for code in ("en", "zh"):
        page.goto(f"{app_url}/{path}?lang={code}")
        page.locator(PAGES[path]).first.wait_for()
        wait_idle(page, timeout=120)
        page.evaluate("document.fonts.ready")
        page.screenshot(path=str(artifacts / f"lang_{code}_{path or 'home'}_1280x720.png"))
    assert "lang=zh" in address(page), "the URL keeps the language, so a shared link opens in it"
    left = _english(_open_everything(page))
    assert not left, f"{len(left)} English words left on /{path}:\n" + "\n".join(f"{w!r} in {t!r}" for t, w in left)
    assert font_responses and set(font_responses) == {200}, "the page's Chinese did not load the shipped font"
    assert page.evaluate("document.fonts.check(\"16px 'Source Sans'\", '攻击')")
    context.close()


@pytest.mark.parametrize(("path", "query"), MORE_VIEWS, ids=[f"{p}?{q}" for p, q in MORE_VIEWS])
def test_views_behind_settings_read_in_chinese_too(page, app_url, path, query):
    page.goto(f"{app_url}/{'' if path == 'home' else path}?{query}&lang=zh")
    page.locator(PAGES["" if path == "home" else path]).first.wait_for()
    wait_idle(page, timeout=120)
    left = _english(_open_everything(page))
    assert not left, f"{len(left)} English words left:\n" + "\n".join(f"{w!r} in {t!r}" for t, w in left)


def test_the_sidebar_switches_language_and_it_stays_from_page_to_page(page, app_url):
    page.goto(app_url + "/attack")
    wait_idle(page, timeout=120)
    page.get_by_test_id("stSidebar").get_by_text("简体中文").click()
    nav = page.get_by_test_id("stSidebarNav")
    nav.get_by_text("构建与训练").wait_for()
    assert "lang=zh" in address(page)
    nav.get_by_text("构建与训练").click()
    page.locator("[data-testid='boundary-view']").wait_for(timeout=120_000)
    wait_idle(page, timeout=120)
    assert "lang=zh" in address(page)
    assert page.get_by_role("button", name="Play").count() == 0, "the live view still speaks English"
    page.get_by_test_id("stSidebar").get_by_text("English").click()
    nav.get_by_text("Build & Train").wait_for()
    assert "lang=" not in address(page)


def test_an_unknown_language_in_the_url_is_reported_and_the_page_stays_english(page, app_url):
    page.goto(app_url + "/?lang=klingon")
    notice = page.get_by_text("Ignored URL parameter lang='klingon'")
    notice.wait_for()
    assert page.get_by_test_id("stSidebarNav").get_by_text("Home").count() == 1
    page.get_by_test_id("stSidebarNav").get_by_text("Attack").click()
    wait_idle(page, timeout=120)
    assert notice.count() == 1, "the notice stays until the user picks a language"
