"""The building blocks of a Personalize schema: dataset types, domains, field types and fields.

Kept apart from ``DatasetSchema`` so the schema rules (``schema_rules.py``) can use them without
importing the schema module that applies the rules.
"""

from __future__ import annotations

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
