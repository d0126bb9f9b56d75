"""What each value of a column must look like (docs/personalize.md, "Data rules").

A checker takes one CSV value and returns the rule it breaks (the text groups findings), or None.
The fast engine (``fast.py``) applies the same rules, as strictly or more; any doubt there sends
the file through these checks, which word the errors.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from constructs_personalize.schema import DatasetSchema, Field, FieldType

Checker = Callable[[str], str | None]

MAX_ID_CHARS = 256
MAX_CATEGORICAL_CHARS = 1000  # per value; several categorical values are separated by "|"
MAX_EPOCH_SECONDS = 9_999_999_999  # year 2286: anything larger is milliseconds (or worse)
ID_FIELDS = frozenset({"USER_ID", "ITEM_ID", "ACTION_ID"})
USER_COLUMN = "USER_ID"  # whose values are counted for the training minimum of users
TIMESTAMP_FIELDS = frozenset({"TIMESTAMP", "CREATION_TIMESTAMP"})
LIST_FIELDS = frozenset({"IMPRESSION"})  # "|"-separated item ids, each at most 1,000 chars
INT_RANGES = {FieldType.LONG: (-(2**63), 2**63 - 1), FieldType.INT: (-(2**31), 2**31 - 1)}

INTEGER = re.compile(r"[+-]?[0-9]+")
FLOAT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

REQUIRED = "required value is empty"
MILLISECONDS = "timestamp in milliseconds (or finer), not Unix epoch seconds"
ISO = "timestamp is an ISO 8601 date, not Unix epoch seconds"
NOT_EPOCH = "timestamp is not a whole number of Unix epoch seconds"
NEGATIVE = "timestamp before 1970 (negative)"
ID_TOO_LONG = f"id longer than {MAX_ID_CHARS} characters"
CATEGORICAL_TOO_LONG = f"categorical value longer than {MAX_CATEGORICAL_CHARS:,} characters"
NOT_BOOLEAN = "value is not a boolean (true or false)"


def not_a(field_type: FieldType) -> str:
    return f"value is not a valid {field_type.value}"


def checker_for(field: Field) -> Checker:
    """The checks of one column, composed once per file (not per value)."""
    checks: list[Checker] = []
    if field.name in TIMESTAMP_FIELDS and field.type in INT_RANGES:
        checks.append(_timestamp)
    elif field.type in INT_RANGES:
        checks.append(_integer(field.type))
    elif field.type in (FieldType.FLOAT, FieldType.DOUBLE):
        checks.append(_float(field.type))
    elif field.type is FieldType.BOOLEAN:
        checks.append(_boolean)
    if field.name in ID_FIELDS:
        checks.append(_id_length)
    if field.categorical or field.name in LIST_FIELDS:
        checks.append(_categorical_length)
    nullable = field.nullable

    def check(value: str) -> str | None:
        if value == "":
            return None if nullable else REQUIRED
        for single in checks:
            problem = single(value)
            if problem is not None:
                return problem
        return None

    return check


def checkers(schema: DatasetSchema, header: list[str]) -> list[Checker]:
    return [checker_for(_field(schema, name)) for name in header]


def _field(schema: DatasetSchema, name: str) -> Field:
    found = schema.field(name)
    if found is None:
        raise KeyError(name)  # headers are checked against the schema before values are
    return found


def _timestamp(value: str) -> str | None:
    if not INTEGER.fullmatch(value):
        if ISO_DATE.match(value):
            return ISO
        return NOT_EPOCH if FLOAT.fullmatch(value) else not_a(FieldType.LONG)
    number = int(value)
    if number < 0:
        return NEGATIVE
    return MILLISECONDS if number > MAX_EPOCH_SECONDS else None


def _integer(field_type: FieldType) -> Checker:
    low, high = INT_RANGES[field_type]

    def check(value: str) -> str | None:
        if not INTEGER.fullmatch(value) or not low <= int(value) <= high:
            return not_a(field_type)
        return None

    return check


def _float(field_type: FieldType) -> Checker:
    def check(value: str) -> str | None:
        return None if FLOAT.fullmatch(value) else not_a(field_type)

    return check


def _boolean(value: str) -> str | None:
    return None if value.lower() in ("true", "false") else NOT_BOOLEAN


def _id_length(value: str) -> str | None:
    return ID_TOO_LONG if len(value) > MAX_ID_CHARS else None


def _categorical_length(value: str) -> str | None:
    if len(value) <= MAX_CATEGORICAL_CHARS:
        return None
    return CATEGORICAL_TOO_LONG if any(len(part) > MAX_CATEGORICAL_CHARS for part in value.split("|")) else None
