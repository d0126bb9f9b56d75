"""Derived job names: valid, unique per stack instance, and new exactly when what is imported changes.

The construct puts the readable prefix and the local data's version into the template; the handler
derives the name with the deployed stack's StackId (tests/runtime/test_job_identity.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk.assertions import Template

from constructs_personalize import RESOURCE_TYPE, DatasetImport, DataSource, ImportMode
from constructs_personalize.handlers.dataset_import.request import ImportRequest
from constructs_personalize.job_name import Place, job_name_prefix
from constructs_personalize.validators import validate_job_name
from tests.constants import DATASET_ARN
from tests.infra.helpers import ENV

STACK_ID = "arn:aws:cloudformation:eu-west-1:123456789012:stack/Names/0c2f44a0-0000-4000-8000-000000000001"


def job_name_of(data_dir: Path, construct_id: str = "Interactions", prefix: str | None = None, **props: Any) -> str:
    """The name the handler derives for the import in one deployed instance of the stack."""
    stack = Stack(App(), "Names", env=ENV)
    imp = DatasetImport(
        stack, construct_id, dataset_arn=DATASET_ARN, data=DataSource.from_asset(data_dir, key_prefix=prefix), **props
    )
    resources = Template.from_stack(stack).find_resources(RESOURCE_TYPE)
    assert list(resources) == [stack.get_logical_id(imp.resource.node.default_child)]  # type: ignore[arg-type]
    properties = dict(next(iter(resources.values()))["Properties"])
    # Deploy-time values of the tokens: the data bucket and the role.
    properties["DataLocation"] = "s3://data-bucket/" + stack.resolve(imp.data_location)["Fn::Join"][1][-1].lstrip("/")
    properties["RoleArn"] = "arn:aws:iam::123456789012:role/import"
    return ImportRequest.from_properties(properties, stack_id=STACK_ID).job_name


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "interactions.csv").write_text("USER_ID,ITEM_ID,TIMESTAMP\nu1,i1,1735689600\n")
    return folder


def test_unchanged_inputs_give_the_same_name(data_dir: Path) -> None:
    first = job_name_of(data_dir)
    assert first == job_name_of(data_dir)
    assert first.startswith("Interactions-")
    validate_job_name(first)


def test_changed_local_data_gives_a_new_name(data_dir: Path) -> None:
    before = job_name_of(data_dir)
    (data_dir / "interactions.csv").write_text("USER_ID,ITEM_ID,TIMESTAMP\nu1,i2,1735689600\n")
    assert job_name_of(data_dir) != before


@pytest.mark.parametrize(
    "change",
    [
        {"import_mode": ImportMode.INCREMENTAL},
        {"publish_attribution_metrics_to_s3": True},
        {"prefix": "v2/"},
    ],
)
def test_changed_import_settings_give_a_new_name(data_dir: Path, change: dict[str, Any]) -> None:
    assert job_name_of(data_dir, **change) != job_name_of(data_dir)


def test_changed_tags_keep_the_name(data_dir: Path) -> None:
    # Tags are re-applied to the same job (no new import).
    assert job_name_of(data_dir, tags={"team": "recs"}) == job_name_of(data_dir)


def test_an_explicit_job_name_is_used_verbatim(data_dir: Path) -> None:
    assert job_name_of(data_dir, job_name="interactions-2026-11-29") == "interactions-2026-11-29"


def test_long_and_odd_construct_ids_still_give_a_valid_name(data_dir: Path) -> None:
    name = job_name_of(data_dir, construct_id="_Ünïcode import " + "x" * 200)
    assert len(name) <= 63
    validate_job_name(name)


@pytest.mark.parametrize("construct_id", ["-", "__x", "a b c", "é" * 10, "z" * 100])
def test_job_name_prefix_is_always_valid(construct_id: str) -> None:
    stack = Stack(App(), "Names", env=ENV)
    imp = DatasetImport(stack, construct_id, dataset_arn=DATASET_ARN, data=DataSource.from_uri("s3://bucket/k/"))
    prefix = job_name_prefix(Place.of(imp))
    assert len(prefix) <= 46
    validate_job_name(prefix)
