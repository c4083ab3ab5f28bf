"""Chinese first: every text the console shows has its zh-CN translation, and the language switches."""

from __future__ import annotations

import re
from pathlib import Path

from jnx.web.console.i18n import Translator, catalog, pick_language

CONSOLE = Path(__file__).parents[3] / "jnx" / "web" / "console"


def used_messages() -> set[str]:
    """The msgids of the templates (``_("…")``) and of the page code (``gettext("…")``, column and filter labels, the navigation)."""
    found: set[str] = set()
    for template in CONSOLE.rglob("*.html"):
        found.update(m.group(2) for m in re.finditer(r"""_\(\s*(["'])(.+?)\1""", template.read_text(encoding="utf-8")))
    for module in CONSOLE.rglob("*.py"):
        text = module.read_text(encoding="utf-8")
        found.update(re.findall(r'gettext\(\s*"((?:[^"\\]|\\.)+)"', text))
        found.update(re.findall(r'(?:Column|Filter)\(\s*"[^"]+",\s*"([^"]+)"', text))
        found.update(re.findall(r'\("\w+", "/[^"]*", "([^"]+)"', text))
        found.update(re.findall(r'title="([^"]+)"', text))
    return found


def test_every_message_the_console_shows_is_translated_to_chinese() -> None:
    messages = used_messages()
    assert len(messages) > 150  # the extraction still finds the texts
    missing = sorted(m for m in messages if m not in catalog("zh_CN"))
    assert missing == []


def test_the_translation_keeps_every_placeholder() -> None:
    for msgid, msgstr in catalog("zh_CN").items():
        assert set(re.findall(r"\{\w+\}", msgid)) == set(re.findall(r"\{\w+\}", msgstr)), msgid


def test_chinese_is_the_default_and_english_is_chosen_by_query_or_cookie() -> None:
    assert pick_language(None, None) == "zh_CN"
    assert pick_language("en", None) == "en"
    assert pick_language(None, "en") == "en"
    assert pick_language("zh-CN", "en") == "zh_CN"
    assert pick_language("fr", None) == "zh_CN"
    assert Translator("zh_CN").gettext("Overview") == "总览"
    assert Translator("en").gettext("Overview") == "Overview"
    assert Translator("zh_CN").gettext("{n} errors ignored.", n=3) == "已忽略 3 条错误。"
