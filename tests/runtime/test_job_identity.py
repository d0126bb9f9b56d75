"""Which job an event means: derived names per stack instance, re-tagging, inputs a name pins down."""

from __future__ import annotations

from typing import Any

import pytest

from constructs_personalize.handlers.dataset_import.errors import ImportFailed
from constructs_personalize.handlers.dataset_import.request import BASE_KEY, ImportRequest
from tests.constants import DATASET_ARN, ROLE_ARN
from tests.runtime.conftest import JOB_ARN, LOCATION, Harness, job, props

STACK_A = "arn:aws:cloudformation:eu-west-1:123456789012:stack/RecsDev/6a1f0c20-0000-4000-8000-000000000001"
STACK_B = "arn:aws:cloudformation:eu-west-1:123456789012:stack/RecsPr123/6a1f0c20-0000-4000-8000-000000000002"
AGAIN_A = "arn:aws:cloudformation:eu-west-1:123456789012:stack/RecsDev/6a1f0c20-0000-4000-8000-000000000003"


def derived(**overrides: Any) -> dict[str, Any]:
    return props(**{"JobName": None, "JobNamePrefix": "Interactions", "DataVersion": "abc123", **overrides})


def name_in(stack_id: str, properties: dict[str, Any]) -> str:
    return ImportRequest.from_properties(properties, stack_id=stack_id).job_name


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
    with pytest.raises(ImportFailed, match="no StackId"):
        ImportRequest.from_properties(derived(), stack_id="")


def _event(h: Harness, request_type: str, properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {**h.invoke(request_type, properties, **extra), "StackId": STACK_A}


def test_replaced_role_under_a_derived_name_keeps_the_job(harness: Harness) -> None:
    new = derived(RoleArn="arn:aws:iam::123456789012:role/replaced")
    arn = ImportRequest.from_properties(new, stack_id=STACK_A).job_arn
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
    arn = ImportRequest.from_properties(new, stack_id=STACK_A).job_arn
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
    with pytest.raises(ImportFailed, match=r"re-tagging dataset import job .* TooManyTagsException"):
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
    with pytest.raises(ImportFailed, match="publishAttributionMetricsToS3: existing False, requested True"):
        harness.handler.is_complete(event)


def test_changed_role_under_an_explicit_name_fails_clearly(harness: Harness) -> None:
    new = props(RoleArn="arn:aws:iam::123456789012:role/replaced")
    event = harness.start(harness.invoke("Update", new, old_properties=props(), physical_id=JOB_ARN))
    harness.stubber.add_response("describe_dataset_import_job", job("ACTIVE"), {"datasetImportJobArn": JOB_ARN})
    with pytest.raises(ImportFailed, match="roleArn: existing"):
        harness.handler.is_complete(event)


def test_new_derived_name_starts_a_new_job(harness: Harness) -> None:
    old_arn = ImportRequest.from_properties(derived(), stack_id=STACK_A).job_arn
    new = derived(DataVersion="def456")
    update = _event(harness, "Update", new, old_properties=derived(), physical_id=old_arn)
    request = ImportRequest.from_event(update)
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
    event = harness.start(update)
    assert event["PhysicalResourceId"] == request.job_arn != old_arn


def _name_for(properties: dict[str, Any], request_id: str) -> str:
    return ImportRequest.from_properties(properties, stack_id=STACK_A, request_id=request_id).job_name


def test_full_data_reverted_to_an_earlier_version_is_imported_again_under_a_new_name() -> None:
    """v1 -> v2 -> v1: a FULL import replaced v1 with v2, so going back must import v1 again."""
    v1, v2 = derived(DataVersion="v1"), derived(DataVersion="v2")
    first, second, back = _name_for(v1, "req-1"), _name_for(v2, "req-2"), _name_for(v1, "req-3")
    assert len({first, second, back}) == 3
    back_request = ImportRequest.from_properties(v1, stack_id=STACK_A, request_id="req-3")
    assert not back_request.made(f"{JOB_ARN.rsplit('/', 1)[0]}/{second}")


def test_a_retried_request_keeps_its_one_job() -> None:
    assert _name_for(derived(), "req-1") == _name_for(derived(), "req-1")


def test_rollback_to_the_job_the_dataset_still_holds_starts_nothing(harness: Harness) -> None:
    """v1 -> v2 whose job failed: the rollback's Update back to v1 keeps v1's job (physical id), no new import."""
    v1, v2 = derived(DataVersion="v1"), derived(DataVersion="v2")
    v1_arn = ImportRequest.from_properties(v1, stack_id=STACK_A, request_id="req-1").job_arn
    rollback = _event(harness, "Update", v1, old_properties=v2, physical_id=v1_arn)
    assert harness.handler.on_event(rollback)["PhysicalResourceId"] == v1_arn


def test_full_revert_update_starts_a_new_job(harness: Harness) -> None:
    v1, v2 = derived(DataVersion="v1"), derived(DataVersion="v2")
    v2_arn = ImportRequest.from_properties(v2, stack_id=STACK_A, request_id="req-2").job_arn
    revert = _event(harness, "Update", v1, old_properties=v2, physical_id=v2_arn)
    request = ImportRequest.from_event(revert)
    v1_first = ImportRequest.from_properties(v1, stack_id=STACK_A, request_id="req-1").job_name
    assert request.job_name != v1_first
    harness.stubber.add_response(
        "create_dataset_import_job", {"datasetImportJobArn": request.job_arn}, request.create_arguments()
    )
    assert harness.handler.on_event(revert)["PhysicalResourceId"] == request.job_arn != v2_arn


def _incremental(base: str, request_id: str, **props: Any) -> str:
    batch = derived(ImportMode="INCREMENTAL", DataVersion="b1", **props)
    return ImportRequest.from_properties(batch, stack_id=STACK_A, request_id=request_id, base=base).job_name


def test_an_incremental_batch_already_added_to_the_same_bulk_data_is_adopted_not_added_twice() -> None:
    assert _incremental("Main-0011223344aabbcc", "req-1") == _incremental("Main-0011223344aabbcc", "req-7")
    # The FULL import before it left the template (it switched to INCREMENTAL): the bulk data is the same.
    assert _incremental("Main-0011223344aabbcc", "req-1", AfterJob="Main-0011223344aabbcc") == _incremental(
        "Main-0011223344aabbcc", "req-2", AfterJob=""
    )


def test_an_incremental_batch_after_a_new_full_job_is_added_again() -> None:
    assert _incremental("Main-0011223344aabbcc", "req-1") != _incremental("Main-5566778899ddeeff", "req-1")


def test_a_full_import_after_another_full_import_follows_it() -> None:
    first = derived(AfterJob="Main-0011223344aabbcc")
    again = derived(AfterJob="Main-5566778899ddeeff")
    request = ImportRequest.from_properties(first, stack_id=STACK_A, request_id="req-1")
    assert not request.made(ImportRequest.from_properties(again, stack_id=STACK_A, request_id="req-1").job_arn)


def test_an_incremental_import_is_named_after_the_datasets_latest_active_full_job(harness: Harness) -> None:
    batch = derived(ImportMode="INCREMENTAL", DataVersion="b1")
    jobs = [
        {"jobName": "old-full", "status": "ACTIVE", "importMode": "FULL", "lastUpdatedDateTime": 100},
        {"jobName": "failed-full", "status": "CREATE FAILED", "importMode": "FULL", "lastUpdatedDateTime": 300},
        {"jobName": "batch", "status": "ACTIVE", "importMode": "INCREMENTAL", "lastUpdatedDateTime": 400},
        {"jobName": "new-full", "status": "ACTIVE", "importMode": "FULL", "lastUpdatedDateTime": 200},
    ]
    summaries = [
        {**j, "datasetImportJobArn": f"{JOB_ARN.rsplit('/', 1)[0]}/{j['jobName']}", "creationDateTime": 1} for j in jobs
    ]
    harness.stubber.add_response(
        "list_dataset_import_jobs", {"datasetImportJobs": summaries}, {"datasetArn": DATASET_ARN}
    )
    event = _event(harness, "Create", batch)
    expected = ImportRequest.from_event({**event, BASE_KEY: "new-full"})
    harness.stubber.add_response(
        "create_dataset_import_job", {"datasetImportJobArn": expected.job_arn}, expected.create_arguments()
    )
    result = harness.handler.on_event(event)
    assert result["PhysicalResourceId"] == expected.job_arn and result[BASE_KEY] == "new-full"


def test_changed_local_data_under_an_explicit_name_fails_instead_of_keeping_the_old_data(harness: Harness) -> None:
    """The upload rewrote the prefix; the job under the taken name holds the old data: say so, fail."""
    old, new = props(DataVersion="aaa111"), props(DataVersion="bbb222")
    with pytest.raises(ImportFailed, match=r"local data .* changed \(data version aaa111 -> bbb222\).*new job_name"):
        harness.handler.on_event(harness.invoke("Update", new, old_properties=old, physical_id=JOB_ARN))


def test_an_explicit_name_without_a_data_version_before_keeps_its_job(harness: Harness) -> None:
    """A stack synthesized before data versions were written for explicit names: nothing to compare."""
    event = harness.invoke("Update", props(DataVersion="bbb222"), old_properties=props(), physical_id=JOB_ARN)
    assert harness.handler.on_event(event)["PhysicalResourceId"] == JOB_ARN


def test_an_incremental_import_after_a_full_one_waits_for_that_job_and_is_named_after_it(harness: Harness) -> None:
    """AfterJob names the bulk data the batch will be added to: no listing, and no start while it runs."""
    batch = derived(ImportMode="INCREMENTAL", DataVersion="b1", AfterJob="Bulk-5566778899ddeeff")
    event = _event(harness, "Create", batch)
    expected = ImportRequest.from_event({**event, BASE_KEY: "Bulk-5566778899ddeeff"})
    full_arn = f"{JOB_ARN.rsplit('/', 1)[0]}/Bulk-5566778899ddeeff"
    harness.stubber.add_response(
        "describe_dataset_import_job",
        job("CREATE IN_PROGRESS", name="Bulk-5566778899ddeeff"),
        {"datasetImportJobArn": full_arn},
    )
    result = harness.handler.on_event(event)
    assert result["PhysicalResourceId"] == expected.job_arn and result[BASE_KEY] == "Bulk-5566778899ddeeff"
    assert any("waiting for FULL import job Bulk-5566778899ddeeff" in line for line in harness.lines)
    # Once that job is ACTIVE, the batch starts.
    harness.stubber.add_response(
        "describe_dataset_import_job", job("ACTIVE", name="Bulk-5566778899ddeeff"), {"datasetImportJobArn": full_arn}
    )
    harness.stubber.add_response(
        "create_dataset_import_job", {"datasetImportJobArn": expected.job_arn}, expected.create_arguments()
    )
    assert harness.handler.on_event(event)["PhysicalResourceId"] == expected.job_arn


def test_a_reverted_items_batch_is_imported_again_a_reverted_interactions_batch_is_not() -> None:
    """Items replace by id: importing v1 again after v2 is right and harmless. Interactions pile up."""
    items_arn = DATASET_ARN.replace("INTERACTIONS", "ITEMS")
    items = derived(ImportMode="INCREMENTAL", DataVersion="v1", DatasetArn=items_arn)
    interactions = derived(ImportMode="INCREMENTAL", DataVersion="v1")
    named = [
        ImportRequest.from_properties(batch, stack_id=STACK_A, request_id=request, base="Bulk-1").job_name
        for batch in (items, interactions)
        for request in ("req-1", "req-3")
    ]
    assert named[0] != named[1] and named[2] == named[3]
