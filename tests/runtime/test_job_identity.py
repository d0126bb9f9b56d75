"""Which job an event means: derived names per stack instance, re-tagging, inputs a name pins down."""

from __future__ import annotations

from typing import Any

import pytest

from constructs_personalize.handlers.dataset_import import index
from tests.constants import DATASET_ARN, ROLE_ARN
from tests.runtime.conftest import JOB_ARN, LOCATION, Harness, job, props

STACK_A = "arn:aws:cloudformation:eu-west-1:123456789012:stack/RecsDev/6a1f0c20-0000-4000-8000-000000000001"
STACK_B = "arn:aws:cloudformation:eu-west-1:123456789012:stack/RecsPr123/6a1f0c20-0000-4000-8000-000000000002"
AGAIN_A = "arn:aws:cloudformation:eu-west-1:123456789012:stack/RecsDev/6a1f0c20-0000-4000-8000-000000000003"


def derived(**overrides: Any) -> dict[str, Any]:
    return props(**{"JobName": None, "JobNamePrefix": "Interactions", "DataVersion": "abc123", **overrides})


def name_in(stack_id: str, properties: dict[str, Any]) -> str:
    return index.ImportRequest.from_properties(properties, stack_id=stack_id).job_name


def test_derived_names_differ_between_stack_instances_and_stay_put_within_one() -> None:
    names = {name_in(stack, derived()) for stack in (STACK_A, STACK_B, AGAIN_A)}
    assert len(names) == 3
    assert name_in(STACK_A, derived()) == name_in(STACK_A, derived())
    for name in names:
        assert name.startswith("Interactions-") and len(name) == len("Interactions-") + 16


@pytest.mark.parametrize(
    "change",
    [
        {"DatasetArn": "arn:aws:personalize:eu-west-1:123456789012:dataset/shop/ITEMS"},
        {"DataLocation": "s3://training-data/other/"},
        {"ImportMode": "INCREMENTAL"},
        {"DataVersion": "def456"},
        {"PublishAttributionMetricsToS3": "true"},
    ],
)
def test_derived_name_changes_with_what_is_imported(change: dict[str, Any]) -> None:
    assert name_in(STACK_A, derived(**change)) != name_in(STACK_A, derived())


@pytest.mark.parametrize(
    "change", [{"RoleArn": "arn:aws:iam::123456789012:role/replaced"}, {"Tags": [{"Key": "team", "Value": "x"}]}]
)
def test_derived_name_ignores_the_role_and_the_tags(change: dict[str, Any]) -> None:
    assert name_in(STACK_A, derived(**change)) == name_in(STACK_A, derived())


def test_derived_name_is_a_valid_job_name_for_any_prefix() -> None:
    name = name_in(STACK_A, derived(JobNamePrefix="--Stage/" + "x" * 80))
    assert len(name) <= 63
    assert name[0].isalnum() and set(name) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


def test_fails_clearly_when_a_derived_name_has_no_stack_id() -> None:
    with pytest.raises(index.ImportFailed, match="no StackId"):
        index.ImportRequest.from_properties(derived(), stack_id="")


def _event(h: Harness, request_type: str, properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {**h.invoke(request_type, properties, **extra), "StackId": STACK_A}


def test_replaced_role_under_a_derived_name_keeps_the_job(harness: Harness) -> None:
    new = derived(RoleArn="arn:aws:iam::123456789012:role/replaced")
    arn = index.ImportRequest.from_properties(new, stack_id=STACK_A).job_arn
    event = harness.start(_event(harness, "Update", new, old_properties=derived(), physical_id=arn))
    assert event["PhysicalResourceId"] == arn
    harness.stubber.add_response(
        "describe_dataset_import_job",
        job("ACTIVE", name=arn.rsplit("/", 1)[1], roleArn=ROLE_ARN),
        {"datasetImportJobArn": arn},
    )
    assert harness.handler.is_complete(event)["IsComplete"] is True


def test_changed_tags_are_re_applied_to_the_same_job(harness: Harness) -> None:
    old = derived(Tags=[{"Key": "team", "Value": "recs"}, {"Key": "cost", "Value": "1"}])
    new = derived(Tags=[{"Key": "team", "Value": "search"}, {"Key": "owner", "Value": "ana"}])
    arn = index.ImportRequest.from_properties(new, stack_id=STACK_A).job_arn
    harness.stubber.add_response(
        "tag_resource",
        {},
        {
            "resourceArn": arn,
            "tags": [{"tagKey": "team", "tagValue": "search"}, {"tagKey": "owner", "tagValue": "ana"}],
        },
    )
    harness.stubber.add_response("untag_resource", {}, {"resourceArn": arn, "tagKeys": ["cost"]})
    event = harness.start(_event(harness, "Update", new, old_properties=old, physical_id=arn))
    assert event["PhysicalResourceId"] == arn
    assert any('"decision": "job-retagged"' in line for line in harness.lines)


def test_fails_when_re_tagging_is_refused(harness: Harness) -> None:
    new = props(Tags=[{"Key": "team", "Value": "search"}])
    harness.stubber.add_client_error("tag_resource", "TooManyTagsException", "too many tags")
    with pytest.raises(index.ImportFailed, match=r"re-tagging dataset import job .* TooManyTagsException"):
        harness.handler.on_event(harness.invoke("Update", new, old_properties=props(), physical_id=JOB_ARN))


def test_changed_attribution_flag_under_an_explicit_name_fails_clearly(harness: Harness) -> None:
    event = harness.start(
        harness.invoke(
            "Update", props(PublishAttributionMetricsToS3="true"), old_properties=props(), physical_id=JOB_ARN
        )
    )
    harness.stubber.add_response(
        "describe_dataset_import_job",
        job("ACTIVE", publishAttributionMetricsToS3=False),
        {"datasetImportJobArn": JOB_ARN},
    )
    with pytest.raises(index.ImportFailed, match="publishAttributionMetricsToS3: existing False, requested True"):
        harness.handler.is_complete(event)


def test_changed_role_under_an_explicit_name_fails_clearly(harness: Harness) -> None:
    new = props(RoleArn="arn:aws:iam::123456789012:role/replaced")
    event = harness.start(harness.invoke("Update", new, old_properties=props(), physical_id=JOB_ARN))
    harness.stubber.add_response("describe_dataset_import_job", job("ACTIVE"), {"datasetImportJobArn": JOB_ARN})
    with pytest.raises(index.ImportFailed, match="roleArn: existing"):
        harness.handler.is_complete(event)


def test_new_derived_name_starts_a_new_job(harness: Harness) -> None:
    old_arn = index.ImportRequest.from_properties(derived(), stack_id=STACK_A).job_arn
    new = derived(DataVersion="def456")
    request = index.ImportRequest.from_properties(new, stack_id=STACK_A)
    harness.stubber.add_response(
        "create_dataset_import_job",
        {"datasetImportJobArn": request.job_arn},
        {
            "jobName": request.job_name,
            "datasetArn": DATASET_ARN,
            "dataSource": {"dataLocation": LOCATION},
            "roleArn": ROLE_ARN,
            "importMode": "FULL",
        },
    )
    event = harness.start(_event(harness, "Update", new, old_properties=derived(), physical_id=old_arn))
    assert event["PhysicalResourceId"] == request.job_arn != old_arn
