"""The pre-flight check inside DatasetImport / TrainingDataset: fails the synth, caches, opts out."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from constructs_personalize import (
    DatasetImport,
    DatasetSchema,
    DataSource,
    DataValidationError,
    Field,
    ImportMode,
    TrainingDataset,
    preflight,
)
from constructs_personalize.preflight import assets, cache, validate_data
from tests.constants import DATASET_ARN, SAMPLE_DIR
from tests.emulator.samples import interactions_csv
from tests.infra.helpers import ENV

SCHEMA = DatasetSchema.interactions()


def _stack() -> Stack:
    return Stack(App(), "Shop", env=ENV)


def _folder(tmp_path: Path, body: bytes, name: str = "data") -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "interactions.csv").write_bytes(body)
    return folder


def _import(stack: Stack, folder: Path, **extra: Any) -> DatasetImport:
    return DatasetImport(stack, "Interactions", dataset_arn=DATASET_ARN, data=DataSource.from_asset(folder), **extra)


def test_bad_data_fails_the_synth_naming_construct_file_and_line(tmp_path: Path) -> None:
    folder = _folder(tmp_path, interactions_csv(timestamp_scale=1000))
    with pytest.raises(DataValidationError) as error:
        _import(_stack(), folder, schema=SCHEMA)
    message = str(error.value)
    assert message.startswith("DatasetImport 'Shop/Interactions': the pre-flight check found 1,200 problem(s)")
    assert "data/interactions.csv:2 column TIMESTAMP: '1700000000000'" in message


def test_good_data_passes_and_is_summarized(tmp_path: Path) -> None:
    imp = _import(_stack(), SAMPLE_DIR, schema=SCHEMA)
    assert imp.data_summary is not None
    assert (imp.data_summary.records, imp.data_summary.users_with_two_or_more) == (1500, 60)


def test_opting_out_skips_the_check(tmp_path: Path) -> None:
    folder = _folder(tmp_path, interactions_csv(timestamp_scale=1000))
    assert _import(_stack(), folder, schema=SCHEMA, validate_data=False).data_summary is None


def test_without_a_schema_nothing_is_checked(tmp_path: Path) -> None:
    assert _import(_stack(), _folder(tmp_path, b"not,a,schema\n")).data_summary is None


def test_unchanged_data_is_checked_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache"))
    calls: list[Path] = []
    real = validate_data

    def counting(sources: list[Path], *args: Any, **kwargs: Any) -> Any:
        calls.extend(sources)
        return real(sources, *args, **kwargs)

    monkeypatch.setattr(assets, "validate_data", counting)
    folder = _folder(tmp_path, interactions_csv())
    first = _import(_stack(), folder, schema=SCHEMA).data_summary
    second = _import(_stack(), folder, schema=SCHEMA).data_summary
    assert calls == [folder] and first == second
    assert len(list((tmp_path / "cache" / "preflight").glob("*.json"))) == 1
    # Changed content, another schema or another mode: each is checked again.
    (folder / "interactions.csv").write_bytes(interactions_csv(rows=1300))
    _import(_stack(), folder, schema=SCHEMA)
    assert len(calls) == 2
    _import(_stack(), folder, schema=SCHEMA, import_mode=ImportMode.INCREMENTAL)
    assert len(calls) == 3
    nullable_extra = DatasetSchema.interactions(Field.string("DEVICE", nullable=True))
    _import(_stack(), folder, schema=nullable_extra)
    assert len(calls) == 4


def test_failing_data_is_not_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache"))
    folder = _folder(tmp_path, interactions_csv(rows=10))
    for _ in range(2):
        with pytest.raises(DataValidationError, match="needs at least 1,000 interactions"):
            _import(_stack(), folder, schema=SCHEMA)
    assert not (tmp_path / "cache" / "preflight").exists()


def test_a_small_incremental_import_fails_the_synth_naming_the_mode_records_and_folder(tmp_path: Path) -> None:
    # Personalize's quota: at least 1,000 interaction records per import job, FULL or INCREMENTAL.
    folder = _folder(tmp_path, interactions_csv(rows=120))
    with pytest.raises(DataValidationError) as error:
        _import(_stack(), folder, schema=SCHEMA, import_mode=ImportMode.INCREMENTAL)
    message = str(error.value)
    assert message.startswith("DatasetImport 'Shop/Interactions': the pre-flight check found 1 problem(s)")
    assert "an INCREMENTAL import needs at least 1,000 interactions; the files hold 120" in message
    assert f"\n      {os.path.relpath(folder)}" in message


def test_an_incremental_import_of_1000_records_passes_without_the_training_minimum(tmp_path: Path) -> None:
    # Two users only: the 25-users training minimum is for the whole dataset, which a FULL import replaces.
    folder = _folder(tmp_path, interactions_csv(rows=1000, users=2))
    imp = _import(_stack(), folder, schema=SCHEMA, import_mode=ImportMode.INCREMENTAL)
    assert imp.data_summary is not None and imp.data_summary.records == 1000
    with pytest.raises(DataValidationError, match="at least 25 users with 2 or more interactions"):
        _import(_stack(), folder, schema=SCHEMA)


@pytest.mark.parametrize("mode", list(ImportMode))
def test_an_import_over_its_mode_size_limit_fails_the_synth(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: ImportMode
) -> None:
    body = interactions_csv()
    monkeypatch.setitem(preflight.MAX_BYTES, mode.value, len(body) - 1)  # scaled down from 1 GB / 100 GB
    with pytest.raises(DataValidationError) as error:
        _import(_stack(), _folder(tmp_path, body), schema=SCHEMA, import_mode=mode)
    assert f"{mode.value} import jobs take at most {len(body) - 1:,} bytes each; the files hold {len(body):,}" in str(
        error.value
    )


def test_an_unwritable_cache_only_costs_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file-not-dir"
    blocker.write_text("x")
    monkeypatch.setenv(cache.ENV, str(blocker))
    assert _import(_stack(), SAMPLE_DIR, schema=SCHEMA).data_summary is not None


def test_schema_must_match_the_dataset_type() -> None:
    with pytest.raises(
        ValueError, match=r"schema is for a Users dataset, but dataset_arn .* is a INTERACTIONS dataset"
    ):
        _import(_stack(), SAMPLE_DIR, schema=DatasetSchema.users(DatasetSchema.interactions().fields[1]))


def test_data_already_in_s3_is_not_read_at_synth() -> None:
    stack = _stack()
    bucket = s3.Bucket.from_bucket_name(stack, "Raw", "raw-data")
    imp = DatasetImport(
        stack, "Interactions", dataset_arn=DATASET_ARN, data=DataSource.from_bucket(bucket, "exports/"), schema=SCHEMA
    )
    assert imp.data_summary is None


@pytest.fixture(scope="module")
def training_template() -> Template:
    stack = _stack()
    TrainingDataset(
        stack,
        "Interactions",
        dataset_group_arn="arn:aws:personalize:eu-west-1:123456789012:dataset-group/shop",
        schema=SCHEMA,
        data=DataSource.from_asset(SAMPLE_DIR),
    )
    return Template.from_stack(stack)


def test_training_dataset_creates_schema_dataset_and_import(training_template: Template) -> None:
    schemas = training_template.find_resources("AWS::Personalize::Schema")
    ((schema_id, schema),) = schemas.items()
    assert json.loads(schema["Properties"]["Schema"]) == SCHEMA.to_avro()
    datasets = training_template.find_resources("AWS::Personalize::Dataset")
    ((_, dataset),) = datasets.items()
    name = dataset["Properties"]["Name"]
    assert dataset["Properties"]["DatasetType"] == "Interactions"
    assert dataset["Properties"]["SchemaArn"] == {"Fn::GetAtt": [schema_id, "SchemaArn"]}
    # Schema names are unique per account and region: <name>-schema-<8 hex of the stack instance's id>.
    stack_uuid = {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}]}
    assert schema["Properties"]["Name"] == {
        "Fn::Join": ["-", [f"{name}-schema", {"Fn::Select": [0, {"Fn::Split": ["-", stack_uuid]}]}]]
    }
    assert len(name) <= 63
    training_template.resource_count_is("Custom::PersonalizeDatasetImport", 1)


def test_training_dataset_checks_its_data_and_name(tmp_path: Path) -> None:
    group = "arn:aws:personalize:eu-west-1:123456789012:dataset-group/shop"
    bad = DataSource.from_asset(_folder(tmp_path, interactions_csv(header="USER_ID,ITEM_ID,TIMESTAMP")))
    with pytest.raises(DataValidationError, match="required column missing from the header"):
        TrainingDataset(_stack(), "Interactions", dataset_group_arn=group, schema=SCHEMA, data=bad)
    with pytest.raises(ValueError, match="name must be 1-63 characters"):
        TrainingDataset(_stack(), "Interactions", dataset_group_arn=group, schema=SCHEMA, data=bad, name="no spaces")
