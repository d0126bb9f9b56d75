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
from typing import Any

from constructs_personalize import schema_rules
from constructs_personalize.schema_types import NAMESPACE, DatasetType, Domain, Field, FieldType

__all__ = ["NAMESPACE", "DatasetSchema", "DatasetType", "Domain", "Field", "FieldType"]


@dataclass(frozen=True)
class DatasetSchema:
    """A Personalize schema for one dataset type (and optionally a domain); validated on creation."""

    dataset_type: DatasetType
    fields: tuple[Field, ...]
    domain: Domain | None = None
    name: str = ""

    def __post_init__(self) -> None:
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

    # -- factories (items, users and actions need at least one metadata field) ------------------------
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
