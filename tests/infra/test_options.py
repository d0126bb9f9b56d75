"""``TrainingDataset`` takes every ``DatasetImport`` parameter, with the same type and default, and passes it on."""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Duration, Size, Stack
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template

from constructs_personalize import (
    RESOURCE_TYPE,
    DatasetImport,
    DatasetSchema,
    DataSource,
    DataStore,
    ImportMode,
    ImportWait,
    TrainingDataset,
)
from tests.constants import SAMPLE_DIR
from tests.infra.helpers import ENV

GROUP_ARN = "arn:aws:personalize:eu-west-1:123456789012:dataset-group/shop"
ROLE_ARN = "arn:aws:iam::123456789012:role/team-reader"


def _options(stack: Stack, bad_data: Path) -> dict[str, Any]:
    """A non-default value for every option (the test fails when an option is added without one here)."""
    return {
        "data": DataSource.from_asset(bad_data, key_prefix="team/interactions/"),
        "store": DataStore(stack, "TeamStore"),
        "role": iam.Role.from_role_arn(stack, "Reader", ROLE_ARN, mutable=False),
        "import_mode": ImportMode.INCREMENTAL,
        "publish_attribution_metrics_to_s3": False,
        "tags": {"team": "recs"},
        "job_name": "team-interactions-1",
        "validate_data": False,
        "upload_memory_limit": 3008,
        "upload_ephemeral_storage_size": Size.gibibytes(2),
        "wait": ImportWait.up_to(Duration.hours(2)),
    }


@pytest.fixture
def bad_data(tmp_path: Path) -> Path:
    # Millisecond timestamps: only validate_data=False lets this synthesize.
    body = (SAMPLE_DIR / "interactions.csv").read_text().replace(",17356", ",17356000000")
    (tmp_path / "interactions.csv").write_text(body)
    return tmp_path


def _keyword_parameters(cls: type) -> dict[str, inspect.Parameter]:
    signature = inspect.signature(cls.__init__)  # type: ignore[misc]
    return {name: p for name, p in signature.parameters.items() if p.kind is inspect.Parameter.KEYWORD_ONLY}


# The parameters a TrainingDataset passes to its import (dataset_arn and schema come from the dataset it makes).
IMPORT_PARAMETERS = {
    name: p for name, p in _keyword_parameters(DatasetImport).items() if name not in ("dataset_arn", "schema")
}


def test_the_two_signatures_agree() -> None:
    """Explicit keyword-only parameters (help() and documentation tools show them), the same on both."""
    training = _keyword_parameters(TrainingDataset)
    own = ("dataset_group_arn", "schema", "name", "schema_name")
    shared = {name: p for name, p in training.items() if name not in own}
    assert list(shared) == list(IMPORT_PARAMETERS)
    for name, parameter in IMPORT_PARAMETERS.items():
        assert (shared[name].annotation, shared[name].default) == (parameter.annotation, parameter.default), name
    assert "options" not in inspect.signature(DatasetImport.__init__).parameters


def test_every_import_option_reaches_the_import_of_a_training_dataset(bad_data: Path) -> None:
    stack = Stack(App(), "Options", env=ENV)
    DatasetImport.configure(stack, query_interval=Duration.seconds(20), total_timeout=Duration.minutes(40))
    options = _options(stack, bad_data)
    assert set(options) == set(IMPORT_PARAMETERS)
    training = TrainingDataset(
        stack, "Interactions", dataset_group_arn=GROUP_ARN, schema=DatasetSchema.interactions(), **options
    )
    imp = training.data_import
    assert imp.role is options["role"]
    assert imp.bucket is options["store"].bucket
    template = Template.from_stack(stack).to_json()
    (resource,) = [r for r in template["Resources"].values() if r["Type"] == RESOURCE_TYPE]
    properties = stack.resolve(resource["Properties"])
    assert properties["RoleArn"] == ROLE_ARN
    assert properties["ImportMode"] == "INCREMENTAL"
    assert properties["PublishAttributionMetricsToS3"] == "false"
    assert properties["Tags"] == [{"Key": "team", "Value": "recs"}]
    assert properties["JobName"] == "team-interactions-1"
    assert json.dumps(properties["DataLocation"]).endswith('"/team/interactions/"]]}')
    assert properties["ServiceTimeout"] == "2400"
    machine = next(r for r in template["Resources"].values() if r["Type"] == "AWS::StepFunctions::StateMachine")
    definition = json.dumps(machine["Properties"]["DefinitionString"])
    assert '\\"IntervalSeconds\\":20' in definition and '\\"MaxAttempts\\":120' in definition
    upload = next(
        r
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function" and r["Properties"].get("Handler") == "index.handler"
    )
    assert upload["Properties"]["MemorySize"] == 3008
    assert imp.wait_condition is not None
    assert stack.resolve(imp.wait_condition.timeout) == "7200" and properties["WaitMode"] == "SIGNAL"
    assert upload["Properties"]["EphemeralStorage"] == {"Size": 2048}


def test_dataset_import_rejects_an_option_it_does_not_know() -> None:
    stack = Stack(App(), "Options", env=ENV)
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'sources'"):
        DatasetImport(
            stack,
            "Imp",
            dataset_arn="arn:aws:personalize:eu-west-1:123456789012:dataset/shop/INTERACTIONS",
            data=DataSource.from_asset(SAMPLE_DIR),
            sources=[],  # type: ignore[call-arg]
        )


@pytest.mark.parametrize("data", [None, "s3://bucket/key/"])
def test_dataset_import_needs_a_data_source(data: object) -> None:
    stack = Stack(App(), "Options", env=ENV)
    options = {} if data is None else {"data": data}
    expected = "missing 1 required keyword-only argument: 'data'" if data is None else r"needs data=DataSource"
    with pytest.raises(TypeError, match=expected):
        DatasetImport(
            stack,
            "Imp",
            dataset_arn="arn:aws:personalize:eu-west-1:123456789012:dataset/shop/INTERACTIONS",
            **options,  # type: ignore[arg-type]
        )
