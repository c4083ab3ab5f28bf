"""What the schemas can say about one element: base type, length, enumeration, patterns.

Shared by the XSD and the JSON Schema generators so both express the same constraints. Patterns use
only syntax that XSD regular expressions and ECMA/Python regular expressions read alike (character
classes, counted repeats, plain groups, ``\\S``); the JSON Schema anchors them with ``^…$``.
"""

from __future__ import annotations

from dataclasses import dataclass

from jnx.codesets import USCC_PLACEHOLDER, CodeSetRegistry
from jnx.codesets.validators import USCC_REGISTRATION_KINDS
from jnx.standard.dictionary import DataElement, Dictionary, ElementType
from jnx.standard.errors import DictionaryError

USCC_CHARS = "[0-9A-HJ-NPQRTUWXY]"
USCC_PATTERN = "(" + "|".join(f"{first}[{seconds}]" for first, seconds in USCC_REGISTRATION_KINDS.items()) + f")[0-9]{{6}}{USCC_CHARS}{{10}}"
ORG_CODE_PATTERN = "[0-9A-Z]{8}-?[0-9X]"
ID_NUMBER_PATTERN = "[0-9]{17}[0-9X]"
MASKED_ID_NUMBER_PATTERN = r"[0-9]{6}\*{8}[0-9]{3}[0-9X]"  # 370811********0027: area code and last four kept
DATE_PATTERN = "[0-9]{4}-[0-9]{2}-[0-9]{2}"
AMOUNT_PATTERN = r"[0-9]{1,12}(\.[0-9]{1,6})?"
AMOUNT_MAX = "999999999999.999999"
_META = set("\\.?*+{}()[]|^-")


def regex_literal(text: str) -> str:
    """``text`` as a literal in a pattern both XSD and ECMA regexes read the same way."""
    if "$" in text:
        raise DictionaryError(f"code {text!r} contains '$', which cannot be written in an XSD pattern")
    return "".join("\\" + ch if ch in _META else ch for ch in text)


@dataclass(frozen=True, slots=True)
class Facets:
    base: str  # string, date, decimal, integer, boolean
    max_length: int | None = None
    enumeration: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()  # alternatives: a value must match one (or be in the enumeration)
    is_list: bool = False  # a list of items, each with these facets
    unique_items: bool = False


def code_values(registry: CodeSetRegistry, codeset: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(exact codes and aliases of every version, patterns for prefixed free-text entries)."""
    exact: dict[str, None] = {}
    patterns: dict[str, None] = {}
    for version in registry.get(codeset).versions:
        for entry in version.entries.values():
            if entry.match == "prefix":
                patterns[regex_literal(entry.code) + r".*\S.*"] = None
            else:
                exact[entry.code] = None
            for alias in entry.aliases:
                exact[alias] = None
    return tuple(exact), tuple(patterns)


def placeholder_fields(dictionary: Dictionary) -> set[str]:
    """Credit-code elements some record type lets carry the 双公示 placeholder."""
    return {use.field for rt in dictionary.record_types.values() for use in rt.uses if use.placeholder_when is not None}


def element_facets(element: DataElement, registry: CodeSetRegistry, *, allow_placeholder: bool) -> Facets:
    kind = element.type
    if kind is ElementType.STRING:
        return Facets("string", max_length=element.max_length)
    if kind is ElementType.STRING_LIST:
        return Facets("string", max_length=element.max_length, is_list=True)
    if kind in (ElementType.CODE, ElementType.CODE_LIST):
        assert element.codeset is not None
        exact, prefixed = code_values(registry, element.codeset)
        if element.name_required:  # 其他 only with its name: 其他-<name>
            exact = tuple(code for code in exact if code not in element.name_required)
            prefixed += tuple(regex_literal(code + "-") + r".*\S.*" for code in element.name_required)
        if element.separator:
            one = "(" + "|".join([regex_literal(code) for code in exact] + list(prefixed)) + ")"
            sep = regex_literal(element.separator)
            return Facets("string", max_length=element.max_length, patterns=(f"{one}({sep}{one})*",))
        return Facets("string", enumeration=exact, patterns=prefixed, is_list=kind is ElementType.CODE_LIST, unique_items=kind is ElementType.CODE_LIST)
    if kind is ElementType.DATE:
        return Facets("date", patterns=(DATE_PATTERN,))
    if kind is ElementType.DECIMAL_WAN:
        return Facets("decimal", patterns=(AMOUNT_PATTERN,))
    if kind is ElementType.INTEGER:
        return Facets("integer")
    if kind is ElementType.BOOLEAN:
        return Facets("boolean")
    if kind is ElementType.USCC:
        return Facets("string", patterns=(USCC_PATTERN + (f"|{USCC_PLACEHOLDER}" if allow_placeholder else ""),))
    if kind is ElementType.ORG_CODE:
        return Facets("string", patterns=(ORG_CODE_PATTERN,))
    return Facets("string", patterns=(ID_NUMBER_PATTERN,))
