"""The data element dictionary (数据元字典): the one source of the Jining data standard.

Read from ``jnx/standard/data/elements.yaml`` (format 1) and checked whole on load: every id and
field unique, every type and publication rule known, every code set known to the code set
registry, every element a record type uses defined, every condition naming a field of its own
record type with values its code set knows. A broken dictionary is a :class:`DictionaryError`
naming the entry, never a half-built standard.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from jnx.codesets import USCC_PLACEHOLDER, CodeSetRegistry, default_registry
from jnx.standard.conditions import Condition
from jnx.standard.errors import DictionaryError
from jnx.standard.report import Issue

DATA_FILE = Path(__file__).with_name("data") / "elements.yaml"
FORMAT = 1
RECORD_TYPE_KEY = "record_type"
"""The key of a record (JSON, XML attribute) that names its record type; never an element."""

_ID = re.compile(r"^JN-DE-\d{4}$")
USE_RULES = ("when", "forbidden_when", "placeholder_when", "id_number_when", "masked_id_number_when")
_FIELD = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


class ElementType(enum.StrEnum):
    STRING = "string"
    CODE = "code"
    CODE_LIST = "code_list"
    STRING_LIST = "string_list"
    DATE = "date"
    DECIMAL_WAN = "decimal_wan"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    USCC = "uscc"
    ORG_CODE = "org_code"
    ID_NUMBER = "id_number"


class Publication(enum.StrEnum):
    """How an element appears in a 双公示 disclosure."""

    PUBLISHED = "published"
    MASKED = "masked"  # masked when the party is a natural person, in clear otherwise
    NEVER_FOR_NATURAL_PERSON = "never_for_natural_person"
    NOT_PUBLISHED = "not_published"


class Use(enum.StrEnum):
    REQUIRED = "required"
    OPTIONAL = "optional"
    CONDITIONAL = "conditional"
    FORBIDDEN = "forbidden"  # a field of the target format jnx never fills (personal data not published)


DEFAULT_FORMATS: dict[ElementType, str] = {
    ElementType.DATE: "YYYY-MM-DD",
    ElementType.DECIMAL_WAN: "万元, decimal(18,6), ≥ 0",
    ElementType.USCC: "GB 32100, 18 characters",
    ElementType.ORG_CODE: "GB 11714, 9 characters (hyphen before the check character allowed)",
    ElementType.ID_NUMBER: "GB 11643, 18 characters",
    ElementType.BOOLEAN: "true / false",
}


@dataclass(frozen=True, slots=True)
class DataElement:
    id: str
    field: str
    name_zh: str
    name_en: str
    type: ElementType
    publication: Publication
    max_length: int | None = None
    codeset: str | None = None
    separator: str | None = None
    description: str = ""
    format: str | None = None
    derives_from: str | None = None
    name_required: Mapping[str, str] = dc_field(default_factory=dict)
    """Codes that do not stand alone (``其他``): written ``其他-<name>``; each with the rule's source."""

    def judged_as(self, code: str) -> str:
        """The code a value is judged as against its code set's version: ``其他`` for ``其他-取缔`` when 其他 takes a name."""
        if self.name_required:
            base, dash, name = code.partition("-")
            if dash and name.strip() and base in self.name_required:
                return base
        return code

    @property
    def is_list(self) -> bool:
        return self.type in (ElementType.CODE_LIST, ElementType.STRING_LIST) and self.separator is None

    @property
    def display_format(self) -> str:
        if self.format:
            return self.format
        if self.type is ElementType.CODE_LIST and self.separator:
            return f"codes joined by {self.separator!r}"
        return DEFAULT_FORMATS.get(self.type, "")


@dataclass(frozen=True, slots=True)
class ElementUse:
    """One element as a record type uses it: required-ness and the rules that depend on other fields."""

    element: DataElement
    use: Use
    when: Condition | None = None
    forbidden_when: Condition | None = None
    placeholder_when: Condition | None = None
    id_number_when: Condition | None = None
    masked_id_number_when: Condition | None = None  # the masked form 370811********0027, never the number itself

    @property
    def field(self) -> str:
        return self.element.field

    @property
    def required(self) -> bool:
        return self.use is Use.REQUIRED

    def describe_use(self) -> str:
        text = self.use.value
        if self.use is Use.FORBIDDEN:
            text += " (never published: always absent)"
        if self.when is not None:
            text += f" (when {self.when.describe()})"
        if self.forbidden_when is not None:
            text += f"; absent when {self.forbidden_when.describe()}"
        if self.placeholder_when is not None:
            text += f"; the placeholder {USCC_PLACEHOLDER} only when {self.placeholder_when.describe()}"
        if self.id_number_when is not None:
            text += f"; a resident ID number when {self.id_number_when.describe()}"
        if self.masked_id_number_when is not None:
            text += f"; masked like `370811********0027`, never in clear, when {self.masked_id_number_when.describe()}"
        return text


@dataclass(frozen=True, slots=True)
class DateOrder:
    """``earlier`` ≤ ``later`` when both are present."""

    earlier: str
    later: str


@dataclass(frozen=True, slots=True)
class NotInFuture:
    """``field`` is not after the validation day."""

    field: str


RecordRule = DateOrder | NotInFuture


@dataclass(frozen=True, slots=True)
class RecordType:
    name: str
    name_zh: str
    name_en: str
    business_key: tuple[str, ...]
    uses: tuple[ElementUse, ...]
    rules: tuple[RecordRule, ...] = ()
    reference_date: str | None = None

    def __iter__(self) -> Iterator[ElementUse]:
        return iter(self.uses)

    @property
    def fields(self) -> list[str]:
        return [use.field for use in self.uses]

    def use(self, field: str) -> ElementUse:
        for candidate in self.uses:
            if candidate.field == field:
                return candidate
        raise KeyError(field)

    def has(self, field: str) -> bool:
        return any(candidate.field == field for candidate in self.uses)


@dataclass(frozen=True, slots=True)
class Dictionary:
    standard: str
    title_en: str
    version: str
    namespace: str
    elements: Mapping[str, DataElement]  # by field name
    record_types: Mapping[str, RecordType]

    def record_type(self, name: str) -> RecordType:
        try:
            return self.record_types[name]
        except KeyError:
            known = ", ".join(self.record_types)
            raise DictionaryError(f"unknown record type {name!r}; known: {known}", hint="pick one of the known record types") from None

    def element(self, field: str) -> DataElement:
        try:
            return self.elements[field]
        except KeyError:
            raise DictionaryError(f"no data element with field name {field!r}") from None

    def element_by_id(self, element_id: str) -> DataElement:
        for element in self.elements.values():
            if element.id == element_id:
                return element
        raise DictionaryError(f"no data element with id {element_id!r}")


# ---------------------------------------------------------------- loading and checking


def _enum(kind: type[enum.StrEnum], value: Any, where: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        known = ", ".join(member.value for member in kind)
        raise DictionaryError(f"{where}: {value!r} is not a known {kind.__name__} ({known})") from None


def _keys(raw: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = set(raw) - allowed
    if unknown:
        raise DictionaryError(f"{where}: unknown key(s) {sorted(unknown)}; allowed: {sorted(allowed)}")


def _element(raw: Mapping[str, Any], registry: CodeSetRegistry, where: str) -> DataElement:
    allowed = {"id", "field", "name_zh", "name_en", "type", "max_length", "codeset", "separator", "publication", "description",
               "format", "derives_from", "name_required"}
    _keys(raw, allowed, where)
    for key in ("id", "field", "name_zh", "name_en", "type", "publication"):
        if not raw.get(key):
            raise DictionaryError(f"{where}: {key} is required")
    element_id, field = str(raw["id"]), str(raw["field"])
    where = f"{where} ({element_id} {field})"
    if not _ID.match(element_id):
        raise DictionaryError(f"{where}: id must look like JN-DE-0001")
    if not _FIELD.match(field):
        raise DictionaryError(f"{where}: field name must be letters, digits and underscores")
    kind = _enum(ElementType, raw["type"], where)
    max_length = raw.get("max_length")
    if kind in (ElementType.STRING, ElementType.STRING_LIST) and not isinstance(max_length, int):
        raise DictionaryError(f"{where}: a {kind.value} element needs an integer max_length")
    codeset = raw.get("codeset")
    if kind in (ElementType.CODE, ElementType.CODE_LIST):
        if not codeset:
            raise DictionaryError(f"{where}: a {kind.value} element needs a codeset")
        if codeset not in registry:
            raise DictionaryError(f"{where}: unknown code set {codeset!r}; known: {', '.join(registry.names())}")
    elif codeset:
        raise DictionaryError(f"{where}: only code and code_list elements have a codeset")
    separator = raw.get("separator")
    if separator is not None and kind is not ElementType.CODE_LIST:
        raise DictionaryError(f"{where}: only a code_list may have a separator")
    name_required = raw.get("name_required") or {}
    if name_required:
        if not codeset or not isinstance(name_required, Mapping) or not all(isinstance(v, str) and v for v in name_required.values()):
            raise DictionaryError(f"{where}: name_required maps codes of the element's code set to the rule's source")
        missing = [c for c in name_required if not _known_code(registry, codeset, str(c))]
        if missing:
            raise DictionaryError(f"{where}: name_required: {missing[0]!r} is not a code of {codeset}")
    return DataElement(
        id=element_id,
        field=field,
        name_zh=str(raw["name_zh"]),
        name_en=str(raw["name_en"]),
        type=kind,
        publication=_enum(Publication, raw["publication"], where),
        max_length=max_length,
        codeset=codeset,
        separator=separator,
        description=str(raw.get("description") or ""),
        format=raw.get("format"),
        derives_from=raw.get("derives_from"),
        name_required={str(k): str(v) for k, v in name_required.items()},
    )


def _known_code(registry: CodeSetRegistry, codeset: str, value: str) -> bool:
    cs = registry.get(codeset)
    return any(value in version.entries for version in cs.versions)


def _condition(raw: Any, elements: Mapping[str, DataElement], fields: set[str], registry: CodeSetRegistry, where: str) -> Condition:
    if not isinstance(raw, Mapping) or "field" not in raw or len(raw) != 2 or not ({"in", "contains_any"} & set(raw)):
        raise DictionaryError(f"{where}: a condition is {{field: F, in: [..]}} or {{field: F, contains_any: [..]}}, got {raw!r}")
    field = str(raw["field"])
    if field not in fields:
        raise DictionaryError(f"{where}: condition names {field!r}, which this record type does not have")
    element = elements[field]
    contains = "contains_any" in raw
    values = tuple(str(v) for v in raw["contains_any" if contains else "in"])
    if contains and element.type not in (ElementType.CODE_LIST, ElementType.STRING_LIST):
        raise DictionaryError(f"{where}: contains_any needs a list field, {field!r} is {element.type.value}")
    if element.codeset:
        unknown = [v for v in values if not _known_code(registry, element.codeset, v)]
        if unknown:
            raise DictionaryError(f"{where}: {unknown} are not codes of {element.codeset!r}")
    elif element.type is ElementType.USCC and values != (USCC_PLACEHOLDER,):
        raise DictionaryError(f"{where}: a condition on a credit code can only test the placeholder {USCC_PLACEHOLDER}")
    return Condition(field=field, values=values, contains=contains, separator=element.separator)


def _expand(raw_uses: Sequence[Any], groups: Mapping[str, Sequence[Any]], where: str) -> list[Mapping[str, Any]]:
    out: list[Mapping[str, Any]] = []
    for i, raw in enumerate(raw_uses):
        if isinstance(raw, Mapping) and "group" in raw:
            name = raw["group"]
            if name not in groups:
                raise DictionaryError(f"{where}.elements[{i}]: unknown group {name!r}; known: {', '.join(groups)}")
            out.extend(groups[name])
        else:
            out.append(raw)
    return out


def _record_type(raw: Mapping[str, Any], elements: Mapping[str, DataElement], groups: Mapping[str, Sequence[Any]], registry: CodeSetRegistry) -> RecordType:
    name = str(raw.get("name"))
    where = f"record type {name!r}"
    _keys(raw, {"name", "name_zh", "name_en", "business_key", "elements", "rules", "reference_date"}, where)
    raw_uses = _expand(raw.get("elements") or [], groups, where)
    fields: list[str] = []
    for i, raw_use in enumerate(raw_uses):
        field = raw_use.get("element") if isinstance(raw_use, Mapping) else None
        if not isinstance(field, str) or field not in elements:
            raise DictionaryError(f"{where}.elements[{i}]: element {field!r} is used but not defined in elements")
        if field in fields:
            raise DictionaryError(f"{where}: element {field!r} is listed twice")
        fields.append(field)
    field_set = set(fields)
    uses = []
    for raw_use in raw_uses:
        at = f"{where}.{raw_use['element']}"
        _keys(raw_use, {"element", "use", *USE_RULES}, at)
        element = elements[raw_use["element"]]
        use = _enum(Use, raw_use.get("use"), at)
        if (use is Use.CONDITIONAL) != ("when" in raw_use):
            raise DictionaryError(f"{at}: a conditional use needs `when`, and only a conditional use has one")
        if use is Use.FORBIDDEN and set(USE_RULES) & set(raw_use):
            raise DictionaryError(f"{at}: a forbidden element is always absent; it takes no {', '.join(k for k in USE_RULES if k in raw_use)}")
        if "placeholder_when" in raw_use and element.type is not ElementType.USCC:
            raise DictionaryError(f"{at}: placeholder_when applies to credit codes only")
        for key in ("id_number_when", "masked_id_number_when"):
            if key in raw_use and element.type is not ElementType.STRING:
                raise DictionaryError(f"{at}: {key} applies to string elements only")
        if "id_number_when" in raw_use and "masked_id_number_when" in raw_use:
            raise DictionaryError(f"{at}: an ID number is either in clear (id_number_when) or masked (masked_id_number_when), not both")
        conds = {k: _condition(raw_use[k], elements, field_set, registry, f"{at}.{k}") for k in USE_RULES if k in raw_use}
        uses.append(ElementUse(element=element, use=use, **conds))
    by_field = {use.field: use for use in uses}
    business_key = tuple(raw.get("business_key") or ())
    if not business_key:
        raise DictionaryError(f"{where}: a business_key is required")
    for field in business_key:
        if field not in by_field or not by_field[field].required:
            raise DictionaryError(f"{where}: business key field {field!r} must be a required element of the record type")
    reference = raw.get("reference_date")
    if reference is not None and (reference not in by_field or by_field[reference].element.type is not ElementType.DATE):
        raise DictionaryError(f"{where}: reference_date {reference!r} must be a date element of the record type")
    rules: list[RecordRule] = []
    for i, raw_rule in enumerate(raw.get("rules") or []):
        at = f"{where}.rules[{i}]"
        kind = raw_rule.get("rule")
        if kind == "date_order":
            order = DateOrder(earlier=str(raw_rule.get("earlier")), later=str(raw_rule.get("later")))
            rule: RecordRule = order
            named = [order.earlier, order.later]
        elif kind == "not_in_future":
            rule = NotInFuture(field=str(raw_rule.get("field")))
            named = [rule.field]
        else:
            raise DictionaryError(f"{at}: unknown rule {kind!r}; known: date_order, not_in_future")
        for field in named:
            if field not in by_field or by_field[field].element.type is not ElementType.DATE:
                raise DictionaryError(f"{at}: {field!r} must be a date element of the record type")
        rules.append(rule)
    return RecordType(
        name=name,
        name_zh=str(raw.get("name_zh", name)),
        name_en=str(raw.get("name_en", name)),
        business_key=business_key,
        uses=tuple(uses),
        rules=tuple(rules),
        reference_date=reference,
    )


def parse_dictionary(doc: Mapping[str, Any], registry: CodeSetRegistry) -> Dictionary:
    """Build and check the dictionary from a parsed data file."""
    if not isinstance(doc, Mapping) or doc.get("format") != FORMAT:
        found = doc.get("format") if isinstance(doc, Mapping) else type(doc).__name__
        raise DictionaryError(f"dictionary format must be {FORMAT}, got {found!r}")
    elements: dict[str, DataElement] = {}
    ids: set[str] = set()
    for i, raw in enumerate(doc.get("elements") or []):
        element = _element(raw, registry, f"elements[{i}]")
        if element.id in ids:
            raise DictionaryError(f"elements[{i}]: duplicate id {element.id}")
        if element.field in elements:
            raise DictionaryError(f"elements[{i}]: duplicate field name {element.field!r} ({element.id})")
        ids.add(element.id)
        elements[element.field] = element
    for element in elements.values():
        if element.derives_from is not None and element.derives_from not in elements:
            raise DictionaryError(f"{element.id} {element.field}: derives_from {element.derives_from!r} is not a defined element")
    groups = doc.get("groups") or {}
    record_types: dict[str, RecordType] = {}
    for raw in doc.get("record_types") or []:
        record_type = _record_type(raw, elements, groups, registry)
        if record_type.name in record_types:
            raise DictionaryError(f"record type {record_type.name!r} is defined twice")
        record_types[record_type.name] = record_type
    if not record_types:
        raise DictionaryError("the dictionary defines no record types")
    return Dictionary(
        standard=str(doc.get("standard", "")),
        title_en=str(doc.get("title_en", "")),
        version=str(doc.get("version", "")),
        namespace=str(doc.get("namespace", "")),
        elements=elements,
        record_types=record_types,
    )


def load_dictionary(path: Path = DATA_FILE, registry: CodeSetRegistry | None = None) -> Dictionary:
    """Read and check a dictionary file (the shipped one by default)."""
    try:
        with path.open(encoding="utf-8") as handle:
            doc = yaml.safe_load(handle)
    except (OSError, yaml.YAMLError) as exc:
        raise DictionaryError(f"cannot read the data element dictionary {path}: {exc}") from exc
    return parse_dictionary(doc, registry if registry is not None else default_registry())


@lru_cache(maxsize=1)
def default_dictionary() -> Dictionary:
    """The dictionary shipped with jnx, read and checked once per process."""
    return load_dictionary()


def element_issue(element: DataElement, rule: str, message: str, severity: str = "error") -> Issue:
    """An issue about one element of a record (its field, id and Chinese name)."""
    return Issue(field=element.field, rule=rule, message=message, element_id=element.id, name_zh=element.name_zh, severity=severity)
