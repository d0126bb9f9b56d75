"""Personalize's schema rules (docs/personalize.md, "Data rules"), checked on every ``DatasetSchema``.

Each rule raises a ``ValueError`` that names the schema and the field, so a wrong declaration is
found at synth, not when CreateSchema or the first import fails during the deployment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from constructs_personalize.schema_types import DatasetType, Domain, Field, FieldType


class DatasetSchema(Protocol):
    """What the rules read of a ``schema.DatasetSchema`` (which applies them on creation)."""

    @property
    def name(self) -> str: ...
    @property
    def dataset_type(self) -> DatasetType: ...
    @property
    def domain(self) -> Domain | None: ...
    @property
    def fields(self) -> tuple[Field, ...]: ...
    def field(self, name: str) -> Field | None: ...
    def to_json(self) -> str: ...


MAX_SCHEMA_CHARS = 10_000  # CloudFormation's limit on AWS::Personalize::Schema.Schema (the API allows 20,000)
AVRO_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
STRING, LONG, FLOAT = FieldType.STRING, FieldType.LONG, FieldType.FLOAT


@dataclass(frozen=True)
class _Reserved:
    type: FieldType
    required: bool  # must be present and non-null
    nullable_ok: bool = True


# Reserved fields per dataset type: their Avro type, and whether the dataset must have them.
RESERVED: dict[DatasetType, dict[str, _Reserved]] = {
    DatasetType.INTERACTIONS: {
        "USER_ID": _Reserved(STRING, True, nullable_ok=False),
        "ITEM_ID": _Reserved(STRING, True, nullable_ok=False),
        "TIMESTAMP": _Reserved(LONG, True, nullable_ok=False),
        "EVENT_TYPE": _Reserved(STRING, False),
        "EVENT_VALUE": _Reserved(FLOAT, False),
        "IMPRESSION": _Reserved(STRING, False),
        "RECOMMENDATION_ID": _Reserved(STRING, False),
        "EVENT_ATTRIBUTION_SOURCE": _Reserved(STRING, False),
    },
    DatasetType.ITEMS: {
        "ITEM_ID": _Reserved(STRING, True, nullable_ok=False),
        "CREATION_TIMESTAMP": _Reserved(LONG, False),
    },
    DatasetType.USERS: {"USER_ID": _Reserved(STRING, True, nullable_ok=False)},
    DatasetType.ACTIONS: {"ACTION_ID": _Reserved(STRING, True, nullable_ok=False)},
    DatasetType.ACTION_INTERACTIONS: {
        "USER_ID": _Reserved(STRING, True, nullable_ok=False),
        "ACTION_ID": _Reserved(STRING, True, nullable_ok=False),
        "EVENT_TYPE": _Reserved(STRING, True, nullable_ok=False),
        "TIMESTAMP": _Reserved(LONG, True, nullable_ok=False),
    },
}
# Metadata fields (beyond the reserved ones): (at least, at most); None = no documented bound.
METADATA_LIMITS: dict[DatasetType, tuple[int, int | None]] = {
    DatasetType.INTERACTIONS: (0, 5),
    DatasetType.ITEMS: (1, 100),
    DatasetType.USERS: (1, 25),
    DatasetType.ACTIONS: (1, None),
    DatasetType.ACTION_INTERACTIONS: (0, None),
}
# Fields a domain dataset group needs: name -> (type, must be categorical).
DOMAIN_FIELDS: dict[tuple[Domain, DatasetType], dict[str, tuple[FieldType, bool]]] = {
    (Domain.ECOMMERCE, DatasetType.INTERACTIONS): {"EVENT_TYPE": (STRING, False)},
    (Domain.ECOMMERCE, DatasetType.ITEMS): {"PRICE": (FLOAT, False), "CATEGORY_L1": (STRING, True)},
    (Domain.VIDEO_ON_DEMAND, DatasetType.ITEMS): {"GENRES": (STRING, True), "CREATION_TIMESTAMP": (LONG, False)},
}


def check(schema: DatasetSchema) -> None:
    where = f"DatasetSchema {schema.name!r} ({schema.dataset_type.value})"
    if not AVRO_NAME.match(schema.name):
        raise ValueError(f"{where}: the record name must match {AVRO_NAME.pattern}")
    if not schema.fields:
        raise ValueError(f"{where}: a schema needs fields")
    seen: set[str] = set()
    for f in schema.fields:
        _check_field(where, f)
        if f.name.upper() in seen:
            raise ValueError(f"{where}: field {f.name!r} is declared twice (names are case-insensitive)")
        seen.add(f.name.upper())
    reserved = RESERVED[schema.dataset_type]
    for name, rule in reserved.items():
        declared = schema.field(name)
        if declared is None:
            if rule.required:
                raise ValueError(f"{where}: field {name!r} ({rule.type.value}) is required for this dataset type")
            continue
        _check_reserved(where, declared, rule)
    _check_metadata(where, schema, reserved)
    _check_domain(where, schema)
    textual = [f.name for f in schema.fields if f.textual]
    if textual and schema.dataset_type not in (DatasetType.ITEMS,):
        raise ValueError(f"{where}: field {textual[0]!r} is textual, but only Items datasets may have a textual field")
    if len(textual) > 1:
        raise ValueError(f"{where}: at most one textual field is allowed, got {textual}")
    size = len(schema.to_json())
    if size > MAX_SCHEMA_CHARS:
        raise ValueError(
            f"{where}: the schema JSON is {size:,} characters; CloudFormation allows at most {MAX_SCHEMA_CHARS:,} "
            f"(fields: {len(schema.fields)}; the last one is {schema.fields[-1].name!r})"
        )


def _check_field(where: str, f: Field) -> None:
    if not isinstance(f.name, str) or not AVRO_NAME.match(f.name):
        raise ValueError(f"{where}: field name {f.name!r} must match {AVRO_NAME.pattern} (an Avro name)")
    if f.categorical and f.type is not STRING:
        raise ValueError(f"{where}: field {f.name!r} is categorical, but only string fields can be ({f.type.value})")
    if f.textual and f.type is not STRING:
        raise ValueError(f"{where}: field {f.name!r} is textual, but only string fields can be ({f.type.value})")
    if f.textual and f.categorical:
        raise ValueError(f"{where}: field {f.name!r} cannot be both categorical and textual")


def _check_reserved(where: str, f: Field, rule: _Reserved) -> None:
    if f.type is not rule.type:
        raise ValueError(f"{where}: reserved field {f.name!r} must be of type {rule.type.value}, got {f.type.value}")
    if f.nullable and not rule.nullable_ok:
        raise ValueError(f"{where}: field {f.name!r} must not be nullable")
    if f.name == "EVENT_TYPE" and f.categorical:
        raise ValueError(f"{where}: field 'EVENT_TYPE' must not be categorical")
    if f.textual:
        raise ValueError(f"{where}: reserved field {f.name!r} cannot be textual")


def _check_metadata(where: str, schema: DatasetSchema, reserved: dict[str, _Reserved]) -> None:
    metadata = [f.name for f in schema.fields if f.name not in reserved]
    minimum, maximum = METADATA_LIMITS[schema.dataset_type]
    if len(metadata) < minimum:
        raise ValueError(
            f"{where}: needs at least {minimum} metadata field(s) besides {sorted(reserved)}, got {len(metadata)}"
        )
    if maximum is not None and len(metadata) > maximum:
        raise ValueError(
            f"{where}: at most {maximum} metadata fields are allowed, got {len(metadata)}; "
            f"the first over the limit is {metadata[maximum]!r}"
        )


def _check_domain(where: str, schema: DatasetSchema) -> None:
    if schema.domain is None:
        return
    if schema.dataset_type in (DatasetType.ACTIONS, DatasetType.ACTION_INTERACTIONS):
        raise ValueError(f"{where}: {schema.dataset_type.value} datasets have no domain (got {schema.domain.value})")
    for name, (field_type, categorical) in DOMAIN_FIELDS.get((schema.domain, schema.dataset_type), {}).items():
        declared = schema.field(name)
        what = f"{field_type.value}{', categorical' if categorical else ''}"
        if declared is None:
            raise ValueError(f"{where}: the {schema.domain.value} domain requires field {name!r} ({what})")
        if declared.type is not field_type or (categorical and not declared.categorical):
            raise ValueError(f"{where}: in the {schema.domain.value} domain, field {name!r} must be {what}")
