"""What a platform engineer's own app found: each a message or a grant that must be right."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aws_cdk import App, Duration, Stack
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from constructs_personalize import DatasetImport, DatasetSchema, DataSource, Field, ImportWait, TrainingDataset
from constructs_personalize.cli import main
from tests.constants import DATASET_ARN, SAMPLE_DIR
from tests.infra.helpers import ENV

GROUP = "arn:aws:personalize:eu-west-1:123456789012:dataset-group/shop"


def test_a_uri_built_from_a_bucket_of_this_stack_grants_in_that_buckets_policy() -> None:
    stack = Stack(App(), "Own", env=ENV)
    lake = s3.Bucket(stack, "Lake", enforce_ssl=True)
    imp = DatasetImport(
        stack, "Imp", dataset_arn=DATASET_ARN, data=DataSource.from_uri(f"s3://{lake.bucket_name}/items/")
    )
    assert imp.bucket is lake
    template = Template.from_stack(stack).to_json()
    policy_id = stack.get_logical_id(lake.policy.node.default_child)  # type: ignore[union-attr,arg-type]
    statements = template["Resources"][policy_id]["Properties"]["PolicyDocument"]["Statement"]
    assert any(
        s.get("Principal") == {"Service": "personalize.amazonaws.com"} and "/items/*" in json.dumps(s)
        for s in statements
    )
    (resource,) = [r for r in template["Resources"].values() if r["Type"] == "Custom::PersonalizeDatasetImport"]
    assert policy_id in resource["DependsOn"]


def test_folder_rule_errors_name_the_users_folder_not_the_staged_copy(tmp_path: Path) -> None:
    (tmp_path / "interactions.csv").write_bytes((SAMPLE_DIR / "interactions.csv").read_bytes())
    (tmp_path / "README.md").write_text("notes")
    with pytest.raises(ValueError) as error:
        DatasetImport(Stack(App(), "S", env=ENV), "Imp", dataset_arn=DATASET_ARN, data=DataSource.from_asset(tmp_path))
    assert str(tmp_path) in str(error.value) and "README.md" in str(error.value)
    assert "asset." not in str(error.value)


@pytest.mark.parametrize("uri", ["s3://b/k/", "s3://My_Bucket/k/", "s3://Bad_Bucket/x.csv", "s3://ab/x.csv"])
def test_fails_naming_the_bucket_when_a_uri_names_an_invalid_bucket(uri: str) -> None:
    bucket = uri[5:].split("/", maxsplit=1)[0]
    with pytest.raises(ValueError, match=rf"names an invalid S3 bucket '{bucket}': bucket names are 3-63"):
        DataSource.from_uri(uri)


def test_a_long_wait_needs_a_duration() -> None:
    with pytest.raises(TypeError, match=r"ImportWait.up_to takes a Duration \(e.g. Duration.hours\(6\)\), got 6"):
        ImportWait.up_to(6)  # type: ignore[arg-type]
    assert ImportWait.up_to(Duration.hours(6)).mode == "SIGNAL"


def test_the_wait_command_refuses_what_is_not_a_job_arn(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["wait", "not-an-arn"], client=object()) == 3
    assert "not a dataset import job ARN: 'not-an-arn'" in capsys.readouterr().err


def test_fails_for_a_training_dataset_cloudformation_cannot_create() -> None:
    schema = DatasetSchema.actions(Field.string("CATEGORY", categorical=True))
    with pytest.raises(ValueError, match=r"AWS::Personalize::Dataset takes Interactions, Items, Users datasets only"):
        TrainingDataset(
            Stack(App(), "S", env=ENV),
            "Actions",
            dataset_group_arn=GROUP,
            schema=schema,
            data=DataSource.from_uri("s3://actions-data/actions/"),
        )


def test_files_excluded_from_the_upload_are_not_held_against_the_folder(tmp_path: Path) -> None:
    (tmp_path / "interactions.csv").write_bytes((SAMPLE_DIR / "interactions.csv").read_bytes())
    (tmp_path / "README.md").write_text("notes")
    imp = DatasetImport(
        Stack(App(), "S", env=ENV),
        "Imp",
        dataset_arn=DATASET_ARN,
        data=DataSource.from_asset(tmp_path, exclude=["README.md"]),
        schema=DatasetSchema.interactions(),
    )
    assert imp.data_summary is not None and imp.data_summary.files == 1
