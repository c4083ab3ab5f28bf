"""Codes judged on a day through the spans of days on which each code passes.

A code's verdict depends on the day only through the version of its code set in force and the
entry's own validity: on every day of one version, inside the entry's validity, a code that passes
passes alike (with the same alias warning, if any). So instead of asking the code set once per
(code, day) — the decision dates of a feed run into thousands, and such a memo never warms up —
:class:`CodeJudge` asks it once per code for the spans of days on which the code passes, and a day
is then two comparisons. Days outside every span (failures, and any registry or code set whose
classes or versions this reasoning does not cover) are asked of the registry itself.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from jnx.codesets import CodeSet, CodeSetRegistry, CodeSetVersion, Verdict
from jnx.errors import CodeSetError
from jnx.standard.conditions import as_items
from jnx.standard.dictionary import DataElement, element_issue
from jnx.standard.report import Issue

#: Bound of each memo of a judge (spans by code, clean passes by code, verdicts by (code, day)): a
#: memo that fills up is emptied and starts again, so memory stays bounded on any input.
MEMO_SIZE = 4096


def _spannable(registry: CodeSetRegistry, codeset: CodeSet) -> bool:
    """Is ``registry.check(name, code, on)`` for a passing code the same on every day of a version and entry?

    True for the registry's own classes with versions that do not overlap (what the loader admits):
    then the version in force is the one whose span holds the day, and a pass depends on the
    version, the entry and the code only (the alias warning), never on the day itself.
    """
    versions = codeset.versions
    return (type(registry) is CodeSetRegistry and type(codeset) is CodeSet and all(type(v) is CodeSetVersion for v in versions)
            and all(a.valid_to is not None and a.valid_to < b.valid_from for a, b in itertools.pairwise(versions)))


def passing_spans(codeset: CodeSet, code: str) -> tuple[tuple[dt.date, dt.date, Verdict | None], ...]:
    """(first day, last day, verdict) for each span of days on which ``code`` passes; None stands for
    a pass without warnings, and such spans that follow each other are one. The verdict is the code
    set's own, asked for the span's first day."""
    found: list[tuple[dt.date, dt.date, Verdict | None]] = []
    for version in codeset.versions:
        entry = version.lookup(code)
        if entry is None:
            continue
        first = max(version.valid_from, entry.valid_from or dt.date.min)
        last = min(version.valid_to or dt.date.max, entry.valid_to or dt.date.max)
        if first > last:
            continue
        verdict = codeset.check(code, first)
        if not verdict.ok:
            continue
        kept = verdict if verdict.warnings else None
        if found and kept is None and found[-1][2] is None and found[-1][1] < dt.date.max and found[-1][1] + dt.timedelta(days=1) == first:
            found[-1] = (found[-1][0], last, None)
        else:
            found.append((first, last, kept))
    return tuple(found)


class CodeJudge:
    """Codes of one code set judged on a day: ``judge(code, on)`` is None for a pass without warnings,
    else ``registry.check(name, code, on)`` (a pass with warnings or a failure), or the message of the
    CodeSetError it raises.

    ``clean`` maps a code that passes without warnings on one span of days, and on no other day, to
    (first day, last day): the generated check reads it in place and calls ``judge`` only when the
    code is not there or the day is outside. Both memos, and the verdicts by (code, day) of the
    codes and days no span covers, are bounded by MEMO_SIZE.
    """

    def __init__(self, registry: CodeSetRegistry, name: str) -> None:
        try:
            codeset: CodeSet | None = registry.get(name)
        except CodeSetError:
            codeset = None
        self.registry, self.name, self.codeset = registry, name, codeset
        self.spannable = codeset is not None and _spannable(registry, codeset)
        self.spans: dict[str, tuple[tuple[dt.date, dt.date, Verdict | None], ...]] = {}
        self.clean: dict[str, tuple[dt.date, dt.date]] = {}
        self.verdicts: dict[tuple[str, Any], Verdict | str] = {}

    def __call__(self, code: str, on: Any) -> Verdict | str | None:
        if self.spannable and on.__class__ is dt.date and code.__class__ is str:
            spans = self.spans.get(code)
            if spans is None:
                spans = passing_spans(self.codeset, code)  # type: ignore[arg-type]
                if len(self.spans) >= MEMO_SIZE:
                    self.spans.clear()
                    self.clean.clear()
                self.spans[code] = spans
                if len(spans) == 1 and spans[0][2] is None:
                    self.clean[code] = spans[0][:2]
            for first, last, verdict in spans:
                if first <= on <= last:
                    return verdict
        key = (code, on)
        found = self.verdicts.get(key)
        if found is None:
            try:
                found = self.registry.check(self.name, code, on)
            except CodeSetError as exc:
                found = str(exc)
            if len(self.verdicts) >= MEMO_SIZE:
                self.verdicts.clear()
            self.verdicts[key] = found
        return found


def report_code(element: DataElement, verdict: Verdict | str, on: dt.date, issues: list[Issue], warnings: list[Issue]) -> bool:
    """The issue and warnings of one code's verdict; True when the element's other codes are not judged."""
    if isinstance(verdict, str):
        issues.append(element_issue(element, f"codeset.{element.codeset}.no_version", verdict))
        return True
    if not verdict:
        issues.append(element_issue(element, verdict.rule or "codeset", f"{verdict.reason} (judged on {on.isoformat()})"))
    for notice in verdict.warnings:
        warnings.append(element_issue(element, notice.rule, notice.reason, severity="warning"))
    return False


def judge_codes(element: DataElement, judge: CodeJudge, value: Any, on: Any, issues: list[Issue], warnings: list[Issue]) -> None:
    """Every code of one element's value judged on ``on``, as the definition does it."""
    for code in as_items(value, element.separator):
        verdict = judge(element.judged_as(code) if code.__class__ is str else code, on)
        if verdict is not None and report_code(element, verdict, on, issues, warnings):
            break
