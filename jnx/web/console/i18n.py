"""Chinese first, English on request: the console's message catalogs (Babel ``.po`` files).

Messages are written in English in the templates and the page code (``_("Overview")``) and
translated from ``locale/<lang>/LC_MESSAGES/console.po``; zh-CN is the default language, English
is chosen with ``?lang=en`` (kept in the ``jnx_lang`` cookie). The ``.po`` files are read once with
Babel at first use, so no compiled ``.mo`` file lives in the repository.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import format_datetime
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

LOCALE_DIR = Path(__file__).parent / "locale"
DEFAULT_LANGUAGE = "zh_CN"
LANGUAGES: dict[str, str] = {"zh_CN": "中文", "en": "English"}
LANG_COOKIE = "jnx_lang"
_CHINA = dt.timezone(dt.timedelta(hours=8), "CST")


@functools.cache
def catalog(language: str) -> dict[str, str]:
    """msgid → msgstr of one language (empty for English, whose msgids are the text)."""
    path = LOCALE_DIR / language / "LC_MESSAGES" / "console.po"
    if not path.exists():
        return {}
    with path.open("rb") as handle:
        parsed = read_po(handle, locale=language)
    return {str(m.id): str(m.string) for m in parsed if m.id and m.string and not m.fuzzy}


def pick_language(query: str | None, cookie: str | None) -> str:
    """The language of a request: ``?lang=`` over the cookie over zh-CN."""
    for wanted in (query, cookie):
        if wanted:
            normal = wanted.replace("-", "_")
            if normal in LANGUAGES:
                return normal
            if normal.lower().startswith("zh"):
                return "zh_CN"
            if normal.lower().startswith("en"):
                return "en"
    return DEFAULT_LANGUAGE


class Translator:
    """What a page of one language needs: text, numbers and instants in that language."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.locale = Locale.parse(language)
        self._messages = catalog(language)

    def gettext(self, message: str, **values: Any) -> str:
        text = self._messages.get(message, message)
        return text.format(**values) if values else text

    def number(self, value: int | Decimal | float | None) -> str:
        if value is None:
            return "—"
        return format_decimal(value, locale=self.locale)

    def instant(self, value: dt.datetime | None) -> str:
        """An instant in China time (the users' clock), e.g. 2026-12-07 13:05:09."""
        if value is None:
            return "—"
        return format_datetime(value.astimezone(_CHINA), "yyyy-MM-dd HH:mm:ss", locale=self.locale)

    def age(self, value: dt.datetime | None, now: dt.datetime | None = None) -> str:
        """How long ago, in the largest whole unit (3 分钟前 / 3 min ago)."""
        if value is None:
            return "—"
        seconds = int(((now or dt.datetime.now(dt.UTC)) - value).total_seconds())
        for size, unit in ((86400, "{n} d ago"), (3600, "{n} h ago"), (60, "{n} min ago")):
            if seconds >= size:
                return self.gettext(unit, n=seconds // size)
        return self.gettext("just now")

    def callables(self) -> dict[str, Callable[..., str]]:
        return {"_": self.gettext, "gettext": self.gettext, "num": self.number, "when": self.instant, "ago": self.age}
