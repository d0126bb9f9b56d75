"""Typed schemas: the Avro they render, and one test per schema rule (each message names the field)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from constructs_personalize import DatasetSchema, DatasetType, Domain, Field, FieldType


def test_interactions_renders_the_avro_personalize_expects() -> None:
    schema = DatasetSchema.interactions(Field.string("DEVICE", nullable=True, categorical=True), event_value=True)
    assert json.loads(schema.to_json()) == {
        "type": "record",
        "name": "Interactions",
        "namespace": "com.amazonaws.personalize.schema",
        "fields": [
            {"name": "USER_ID", "type": "string"},
            {"name": "ITEM_ID", "type": "string"},
            {"name": "TIMESTAMP", "type": "long"},
            {"name": "EVENT_TYPE", "type": "string"},
            {"name": "EVENT_VALUE", "type": ["null", "float"]},
            {"name": "DEVICE", "type": ["null", "string"], "categorical": True},
        ],
        "version": "1.0",
    }


def test_ready_made_schemas_for_every_dataset_type() -> None:
    items = DatasetSchema.items(
        Field.string("DESCRIPTION", textual=True), Field.float("PRICE"), creation_timestamp=True
    )
    assert items.field_names == ("ITEM_ID", "CREATION_TIMESTAMP", "DESCRIPTION", "PRICE")
    assert json.loads(items.to_json())["fields"][2] == {"name": "DESCRIPTION", "type": "string", "textual": True}
    assert DatasetSchema.users(Field.int("AGE", nullable=True)).dataset_type is DatasetType.USERS
    assert DatasetSchema.actions(Field.double("VALUE")).field_names == ("ACTION_ID", "VALUE")
    assert DatasetSchema.action_interactions().field_names == ("USER_ID", "ACTION_ID", "EVENT_TYPE", "TIMESTAMP")
    ecommerce = DatasetSchema.items(
        Field.float("PRICE"), Field.string("CATEGORY_L1", categorical=True), domain=Domain.ECOMMERCE
    )
    assert ecommerce.domain is Domain.ECOMMERCE
    genres = Field.string("GENRES", categorical=True)
    vod = DatasetSchema.items(genres, creation_timestamp=True, domain="VIDEO_ON_DEMAND")  # type: ignore[arg-type]
    assert vod.domain is Domain.VIDEO_ON_DEMAND


def _many(prefix: str, count: int, **flags: bool) -> list[Field]:
    return [Field.string(f"{prefix}{index}", **flags) for index in range(count)]


RULES: list[tuple[str, Callable[[], DatasetSchema], str]] = [
    (
        "required field",
        lambda: DatasetSchema(DatasetType.INTERACTIONS, (Field.string("USER_ID"), Field.long("TIMESTAMP"))),
        "field 'ITEM_ID' (string) is required",
    ),
    (
        "required field (action interactions)",
        lambda: DatasetSchema(
            DatasetType.ACTION_INTERACTIONS,
            (Field.string("USER_ID"), Field.string("ACTION_ID"), Field.long("TIMESTAMP")),
        ),
        "field 'EVENT_TYPE' (string) is required",
    ),
    (
        "reserved type",
        lambda: DatasetSchema(
            DatasetType.INTERACTIONS, (Field.string("USER_ID"), Field.string("ITEM_ID"), Field.string("TIMESTAMP"))
        ),
        "reserved field 'TIMESTAMP' must be of type long, got string",
    ),
    (
        "reserved type (EVENT_VALUE)",
        lambda: DatasetSchema.interactions(Field.string("EVENT_VALUE")),
        "reserved field 'EVENT_VALUE' must be of type float",
    ),
    (
        "id not nullable",
        lambda: DatasetSchema(DatasetType.USERS, (Field.string("USER_ID", nullable=True), Field.int("AGE"))),
        "field 'USER_ID' must not be nullable",
    ),
    (
        "EVENT_TYPE not categorical",
        lambda: DatasetSchema.interactions(Field.string("EVENT_TYPE", categorical=True), event_type=False),
        "field 'EVENT_TYPE' must not be categorical",
    ),
    (
        "interactions metadata limit",
        lambda: DatasetSchema.interactions(*_many("M", 6)),
        "at most 5 metadata fields are allowed, got 6; the first over the limit is 'M5'",
    ),
    (
        "items metadata limit",
        lambda: DatasetSchema.items(*_many("M", 101)),
        "at most 100 metadata fields are allowed, got 101; the first over the limit is 'M100'",
    ),
    (
        "users metadata limit",
        lambda: DatasetSchema.users(*_many("M", 26)),
        "at most 25 metadata fields are allowed, got 26; the first over the limit is 'M25'",
    ),
    (
        "items need metadata",
        lambda: DatasetSchema.items(creation_timestamp=True),
        "needs at least 1 metadata field(s) besides ['CREATION_TIMESTAMP', 'ITEM_ID']",
    ),
    ("users need metadata", DatasetSchema.users, "needs at least 1 metadata field(s) besides ['USER_ID']"),
    (
        "actions need metadata",
        DatasetSchema.actions,
        "needs at least 1 metadata field(s) besides ['ACTION_ID']",
    ),
    (
        "one textual field",
        lambda: DatasetSchema.items(Field.string("TITLE", textual=True), Field.string("BODY", textual=True)),
        "at most one textual field is allowed, got ['TITLE', 'BODY']",
    ),
    (
        "textual only on items",
        lambda: DatasetSchema.users(Field.string("BIO", textual=True)),
        "field 'BIO' is textual, but only Items datasets",
    ),
    (
        "textual only on strings",
        lambda: DatasetSchema.items(Field("SCORE", FieldType.FLOAT, textual=True)),
        "field 'SCORE' is textual, but only string fields",
    ),
    (
        "categorical only on strings",
        lambda: DatasetSchema.items(Field("PRICE", FieldType.FLOAT, categorical=True)),
        "field 'PRICE' is categorical, but only string fields",
    ),
    (
        "not both flags",
        lambda: DatasetSchema.items(Field.string("TAGS", categorical=True, textual=True)),
        "field 'TAGS' cannot be both categorical and textual",
    ),
    ("field name", lambda: DatasetSchema.items(Field.string("PRICE-EUR")), "field name 'PRICE-EUR' must match"),
    (
        "duplicate field",
        lambda: DatasetSchema.items(Field.string("COLOR"), Field.string("color")),
        "field 'color' is declared twice",
    ),
    (
        "record name",
        lambda: DatasetSchema(DatasetType.USERS, (Field.string("USER_ID"), Field.int("AGE")), name="my users"),
        "DatasetSchema 'my users'",
    ),
    (
        "ECOMMERCE interactions",
        lambda: DatasetSchema.interactions(event_type=False, domain=Domain.ECOMMERCE),
        "the ECOMMERCE domain requires field 'EVENT_TYPE' (string)",
    ),
    (
        "ECOMMERCE items",
        lambda: DatasetSchema.items(Field.float("PRICE"), domain=Domain.ECOMMERCE),
        "requires field 'CATEGORY_L1' (string, categorical)",
    ),
    (
        "ECOMMERCE CATEGORY_L1 categorical",
        lambda: DatasetSchema.items(Field.float("PRICE"), Field.string("CATEGORY_L1"), domain=Domain.ECOMMERCE),
        "field 'CATEGORY_L1' must be string, categorical",
    ),
    (
        "VIDEO_ON_DEMAND items",
        lambda: DatasetSchema.items(Field.string("GENRES", categorical=True), domain=Domain.VIDEO_ON_DEMAND),
        "requires field 'CREATION_TIMESTAMP' (long)",
    ),
    (
        "no domain for actions",
        lambda: DatasetSchema(
            DatasetType.ACTIONS, (Field.string("ACTION_ID"), Field.int("V")), domain=Domain.ECOMMERCE
        ),
        "Actions datasets have no domain",
    ),
    (
        "CloudFormation's 10,000 characters",
        lambda: DatasetSchema.items(
            *_many("A_RATHER_LONG_METADATA_FIELD_NAME_FOR_A_CATEGORY_OF_THE_ITEM_", 100, categorical=True)
        ),
        "CloudFormation allows at most 10,000 (fields: 101; "
        "the last one is 'A_RATHER_LONG_METADATA_FIELD_NAME_FOR_A_CATEGORY_OF_THE_ITEM_99')",
    ),
]


@pytest.mark.parametrize(
    ("build", "message"), [(build, message) for _, build, message in RULES], ids=[r[0] for r in RULES]
)
def test_each_rule_is_a_value_error_naming_the_field(build: Callable[[], DatasetSchema], message: str) -> None:
    with pytest.raises(ValueError, match="DatasetSchema") as error:
        build()
    assert message in str(error.value)


def test_the_largest_schema_cloudformation_accepts_is_allowed() -> None:
    schema = DatasetSchema.items(*_many("F", 100, categorical=True))
    assert len(schema.to_json()) <= 10_000


def test_an_unknown_field_type_names_the_field() -> None:
    with pytest.raises(ValueError, match="field 'SCORE': type 'decimal' is not one of string, long"):
        Field("SCORE", "decimal")  # type: ignore[arg-type]
