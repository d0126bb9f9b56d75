"""Typed Amazon Personalize schemas: declare fields in Python, get the Avro JSON for ``CfnSchema``.

    schema = DatasetSchema.interactions(Field.string("DEVICE", categorical=True))
    personalize.CfnSchema(self, "Schema", name="shop-interactions", schema=schema.to_json())

Every rule Personalize applies to a schema (required and reserved fields per dataset type and
domain, metadata limits, flags, CloudFormation's 10,000-character limit) is checked when the
schema is built, with a ``ValueError`` that names the field. The rules live in ``schema_rules.py``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

NAMESPACE = "com.amazonaws.personalize.schema"


class DatasetType(StrEnum):
    INTERACTIONS = "Interactions"
    ITEMS = "Items"
    USERS = "Users"
    ACTIONS = "Actions"
    ACTION_INTERACTIONS = "Action_Interactions"


class Domain(StrEnum):
    ECOMMERCE = "ECOMMERCE"
    VIDEO_ON_DEMAND = "VIDEO_ON_DEMAND"


class FieldType(StrEnum):
    STRING = "string"
    LONG = "long"
    INT = "int"
    FLOAT = "float"
    DOUBLE = "double"
    BOOLEAN = "boolean"


@dataclass(frozen=True)
class Field:
    """One column of the dataset: its Avro type, whether it may be empty, and Personalize's flags."""

    name: str
    type: FieldType
    nullable: bool = False
    categorical: bool = False
    textual: bool = False

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "type", FieldType(self.type))
        except ValueError:
            allowed = ", ".join(t.value for t in FieldType)
            raise ValueError(f"field {self.name!r}: type {self.type!r} is not one of {allowed}") from None

    @classmethod
    def string(cls, name: str, *, nullable: bool = False, categorical: bool = False, textual: bool = False) -> Field:
        return cls(name, FieldType.STRING, nullable=nullable, categorical=categorical, textual=textual)

    @classmethod
    def long(cls, name: str, *, nullable: bool = False) -> Field:
        return cls(name, FieldType.LONG, nullable=nullable)

    @classmethod
    def int(cls, name: str, *, nullable: bool = False) -> Field:
        return cls(name, FieldType.INT, nullable=nullable)

    @classmethod
    def float(cls, name: str, *, nullable: bool = False) -> Field:
        return cls(name, FieldType.FLOAT, nullable=nullable)

    @classmethod
    def double(cls, name: str, *, nullable: bool = False) -> Field:
        return cls(name, FieldType.DOUBLE, nullable=nullable)

    @classmethod
    def boolean(cls, name: str, *, nullable: bool = False) -> Field:
        return cls(name, FieldType.BOOLEAN, nullable=nullable)

    def to_avro(self) -> dict[str, Any]:
        avro: dict[str, Any] = {
            "name": self.name,
            "type": ["null", self.type.value] if self.nullable else self.type.value,
        }
        if self.categorical:
            avro["categorical"] = True
        if self.textual:
            avro["textual"] = True
        return avro


@dataclass(frozen=True)
class DatasetSchema:
    """A Personalize schema for one dataset type (and optionally a domain); validated on creation."""

    dataset_type: DatasetType
    fields: tuple[Field, ...]
    domain: Domain | None = None
    name: str = ""

    def __post_init__(self) -> None:
        from constructs_personalize import schema_rules  # noqa: PLC0415 - the rules import this module's types

        object.__setattr__(self, "dataset_type", DatasetType(self.dataset_type))
        object.__setattr__(self, "fields", tuple(self.fields))
        if self.domain is not None:
            object.__setattr__(self, "domain", Domain(self.domain))
        if not self.name:
            object.__setattr__(self, "name", self.dataset_type.value.replace("_", ""))
        schema_rules.check(self)

    # -- rendering ------------------------------------------------------------------------------
    def to_avro(self) -> dict[str, Any]:
        return {
            "type": "record",
            "name": self.name,
            "namespace": NAMESPACE,
            "fields": [f.to_avro() for f in self.fields],
            "version": "1.0",
        }

    def to_json(self) -> str:
        """The Avro JSON for ``CfnSchema(schema=...)`` (compact; at most 10,000 characters)."""
        return json.dumps(self.to_avro(), separators=(",", ":"))

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    # -- ready-made schemas --------------------------------------------------------------------
    @classmethod
    def interactions(
        cls,
        *metadata: Field,
        event_type: bool = True,
        event_value: bool = False,
        domain: Domain | None = None,
    ) -> DatasetSchema:
        """USER_ID, ITEM_ID, TIMESTAMP (+ EVENT_TYPE, EVENT_VALUE if asked) and up to 5 metadata fields."""
        fields = [Field.string("USER_ID"), Field.string("ITEM_ID"), Field.long("TIMESTAMP")]
        if event_type:
            fields.append(Field.string("EVENT_TYPE"))
        if event_value:
            fields.append(Field.float("EVENT_VALUE", nullable=True))
        return cls(DatasetType.INTERACTIONS, (*fields, *metadata), domain=domain)

    @classmethod
    def items(cls, *metadata: Field, creation_timestamp: bool = False, domain: Domain | None = None) -> DatasetSchema:
        """ITEM_ID (+ CREATION_TIMESTAMP if asked) and at least one metadata field."""
        fields = [Field.string("ITEM_ID")]
        if creation_timestamp:
            fields.append(Field.long("CREATION_TIMESTAMP"))
        return cls(DatasetType.ITEMS, (*fields, *metadata), domain=domain)

    @classmethod
    def users(cls, *metadata: Field, domain: Domain | None = None) -> DatasetSchema:
        """USER_ID and 1 to 25 metadata fields."""
        return cls(DatasetType.USERS, (Field.string("USER_ID"), *metadata), domain=domain)

    @classmethod
    def actions(cls, *metadata: Field) -> DatasetSchema:
        """ACTION_ID and at least one metadata field."""
        return cls(DatasetType.ACTIONS, (Field.string("ACTION_ID"), *metadata))

    @classmethod
    def action_interactions(cls, *metadata: Field) -> DatasetSchema:
        """USER_ID, ACTION_ID, EVENT_TYPE and TIMESTAMP."""
        fields = (
            Field.string("USER_ID"),
            Field.string("ACTION_ID"),
            Field.string("EVENT_TYPE"),
            Field.long("TIMESTAMP"),
        )
        return cls(DatasetType.ACTION_INTERACTIONS, (*fields, *metadata))
