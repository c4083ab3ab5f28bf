"""Pydantic v2 models of the standard's record types, generated from the dictionary.

Nothing here is written per record type: :func:`build_models` turns every record type of the
dictionary into a model with ``create_model``. Field types are exact (``datetime.date``,
``Decimal`` with six places for 万元, ``list[str]`` for multi-valued codes); each field is checked
by the same function the validation service uses (:mod:`jnx.standard.fields`), and an after-model
validator applies the record-level rules (:mod:`jnx.standard.rules`) — conditional elements, the
natural-person rules, codes against the version in force on the decision date, date order.

The validation day for "not in the future" comes from the validation context
(``Model.model_validate(data, context={"today": date})``); without one, today's date is used.

    >>> Penalty = model_for("penalty")
    >>> record = Penalty.model_validate(data, context={"today": dt.date(2025, 6, 30)})
    >>> record.business_key()
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import lru_cache
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    create_model,
    model_validator,
)
from pydantic_core import PydanticCustomError

from jnx.codesets import CodeSetRegistry, default_registry
from jnx.standard.dictionary import (
    Dictionary,
    ElementUse,
    RecordType,
    default_dictionary,
)
from jnx.standard.fields import FieldCheck, FieldProblem, python_type
from jnx.standard.rules import RECORD_TYPE_KEY, record_rule_issues, use_check


def today_from(info: ValidationInfo | None) -> dt.date:
    context = info.context if info is not None else None
    today = context.get("today") if isinstance(context, Mapping) else None
    if isinstance(today, dt.date):
        return today
    return dt.date.today()


class StandardRecord(BaseModel):
    """Base of every generated record model."""

    # hide_input_in_errors: a record holds ID numbers; an error message never repeats the input (DESIGN rule 6)
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    RECORD_TYPE: ClassVar[RecordType]
    REGISTRY: ClassVar[CodeSetRegistry]

    def business_key(self) -> tuple[Any, ...]:
        """The record's business key (e.g. authority credit code + document number)."""
        return tuple(getattr(self, field) for field in self.RECORD_TYPE.business_key)

    def reference_date(self) -> dt.date | None:
        """The date the record's codes are judged on (its decision date), if the type has one."""
        name = self.RECORD_TYPE.reference_date
        return getattr(self, name) if name else None

    def values(self) -> dict[str, Any]:
        """The record's elements that are present, by field name (typed values)."""
        return {use.field: getattr(self, use.field) for use in self.RECORD_TYPE.uses if getattr(self, use.field) is not None}

    @model_validator(mode="after")
    def _record_rules(self, info: ValidationInfo) -> StandardRecord:
        issues, _ = record_rule_issues(self.RECORD_TYPE, self.values(), today=today_from(info), registry=self.REGISTRY)
        if issues:
            summary = "; ".join(issue.describe() for issue in issues)
            raise PydanticCustomError("record_rules", "{summary}", {"summary": summary, "issues": [i.to_dict() for i in issues]})
        return self


def _pydantic(check: FieldCheck, required: bool) -> BeforeValidator:
    def validate(value: Any) -> Any:
        if value is None:
            if required:
                raise PydanticCustomError("required", "required element is missing")
            return None
        try:
            return check(value)
        except FieldProblem as problem:
            raise PydanticCustomError(problem.rule, "{message}", {"message": problem.message}) from None

    return BeforeValidator(validate)


def _field(use: ElementUse, registry: CodeSetRegistry) -> tuple[Any, Any]:
    kind = python_type(use.element)
    validator = _pydantic(use_check(use, registry), use.required)
    description = f"{use.element.id} {use.element.name_zh} ({use.element.name_en})"
    if use.required:
        return Annotated[kind, validator], Field(description=description)
    return Annotated[kind | None, validator], Field(default=None, description=description)


def class_name(record_type: RecordType) -> str:
    return "".join(part.capitalize() for part in record_type.name.split("_")) + "Record"


def build_model(record_type: RecordType, registry: CodeSetRegistry) -> type[StandardRecord]:
    fields: dict[str, Any] = {use.field: _field(use, registry) for use in record_type.uses}
    fields[RECORD_TYPE_KEY] = (Literal[record_type.name], record_type.name)
    model = create_model(class_name(record_type), __base__=StandardRecord, __doc__=f"{record_type.name_zh} — {record_type.name_en}", **fields)
    model.RECORD_TYPE = record_type
    model.REGISTRY = registry
    return model


def build_models(dictionary: Dictionary, registry: CodeSetRegistry) -> dict[str, type[StandardRecord]]:
    """One model per record type of ``dictionary``."""
    return {name: build_model(record_type, registry) for name, record_type in dictionary.record_types.items()}


@lru_cache(maxsize=1)
def default_models() -> dict[str, type[StandardRecord]]:
    return build_models(default_dictionary(), default_registry())


def model_for(record_type: str) -> type[StandardRecord]:
    """The generated model of a record type of the shipped dictionary."""
    default_dictionary().record_type(record_type)  # unknown names → DictionaryError listing the known ones
    return default_models()[record_type]
