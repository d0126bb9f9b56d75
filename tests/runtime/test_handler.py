"""The import handler's lifecycle, against a stubbed Personalize client (docs/personalize.md, "Import jobs")."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from constructs_personalize.handlers.dataset_import import contract, index
from constructs_personalize.handlers.dataset_import.errors import (
    MAX_MESSAGE_BYTES,
    TRUNCATION_MARK,
    ImportFailed,
    truncate,
)
from constructs_personalize.handlers.dataset_import.request import DEADLINE_KEY, STARTED_KEY
from tests.constants import DATASET_ARN, ROLE_ARN
from tests.runtime.conftest import (
    BUDGET,
    JOB_ARN,
    JOB_NAME,
    QUERY_INTERVAL,
    RESPONSE_URL,
    Harness,
    create_params,
    job,
    props,
)

DESCRIBE = {"datasetImportJobArn": JOB_ARN}


def created(h: Harness, name: str = JOB_NAME, **extra: object) -> None:
    h.stubber.add_response(
        "create_dataset_import_job",
        {"datasetImportJobArn": f"arn:aws:personalize:eu-west-1:123456789012:dataset-import-job/{name}"},
        create_params(name, **extra),
    )


def described(h: Harness, status: str, **overrides: Any) -> None:
    h.stubber.add_response("describe_dataset_import_job", job(status, **overrides), DESCRIBE)


EARLIER = datetime(2026, 11, 1, tzinfo=UTC)
LATER = datetime(2026, 11, 2, tzinfo=UTC)


def dataset_described(h: Harness, *, created: datetime) -> None:
    h.stubber.add_response(
        "describe_dataset",
        {"dataset": {"datasetArn": DATASET_ARN, "creationDateTime": created, "status": "ACTIVE"}},
        {"datasetArn": DATASET_ARN},
    )


def describe_error(h: Harness, code: str, message: str) -> None:
    h.stubber.add_client_error("describe_dataset_import_job", code, message, expected_params=DESCRIBE)


def create_error(h: Harness, code: str, message: str) -> None:
    h.stubber.add_client_error("create_dataset_import_job", code, message, expected_params=create_params())


# -- Create -------------------------------------------------------------------------------------
def test_create_starts_the_job_and_completes_only_when_active(harness: Harness) -> None:
    created(harness)
    event = harness.start(harness.invoke("Create"))
    harness.clock.advance(QUERY_INTERVAL)  # the first poll that describes comes an interval later
    assert event["PhysicalResourceId"] == JOB_ARN

    for status in ("CREATE PENDING", "CREATE IN_PROGRESS"):
        described(harness, status)
        assert harness.handler.is_complete(event) == {"IsComplete": False}
    described(harness, "ACTIVE")
    assert harness.handler.is_complete(event) == {
        "IsComplete": True,
        "Data": {"DatasetImportJobArn": JOB_ARN, "JobName": JOB_NAME},
    }


def test_string_properties_are_converted_back_to_types(harness: Harness) -> None:
    created(
        harness,
        publishAttributionMetricsToS3=True,
        tags=[{"tagKey": "team", "tagValue": "recs"}, {"tagKey": "cost-center", "tagValue": ""}],
    )
    properties = props(
        PublishAttributionMetricsToS3="true",
        Tags=[{"Key": "team", "Value": "recs"}, {"Key": "cost-center", "Value": ""}],
    )
    harness.handler.on_event(harness.invoke("Create", properties))


def test_incremental_mode_and_false_flag_reach_the_api(harness: Harness) -> None:
    harness.stubber.add_response(
        "create_dataset_import_job",
        {"datasetImportJobArn": JOB_ARN},
        {**create_params(), "importMode": "INCREMENTAL", "publishAttributionMetricsToS3": False},
    )
    harness.handler.on_event(
        harness.invoke("Create", props(ImportMode="INCREMENTAL", PublishAttributionMetricsToS3="false"))
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"PublishAttributionMetricsToS3": "yes"},
            "PublishAttributionMetricsToS3 must be 'true' or 'false', got 'yes'",
        ),
        ({"ImportMode": "PARTIAL"}, "ImportMode must be FULL or INCREMENTAL, got 'PARTIAL'"),
        ({"JobName": None}, "property JobName is required"),
        ({"Tags": [{"Value": "x"}]}, "Tags must be a list of"),
    ],
)
def test_fails_when_a_property_cannot_be_converted(
    harness: Harness, overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(ImportFailed, match=message.replace("(", r"\(")):
        harness.handler.on_event(harness.invoke("Create", props(**overrides)))


# -- CREATE FAILED --------------------------------------------------------------------------------
def test_fails_when_the_job_ends_create_failed_with_its_reason(harness: Harness) -> None:
    created(harness)
    event = harness.start(harness.invoke("Create"))
    harness.clock.advance(QUERY_INTERVAL)  # the first poll that describes comes an interval later
    described(harness, "CREATE FAILED", failureReason="Input CSV is missing the column TIMESTAMP")
    with pytest.raises(ImportFailed) as failure:
        harness.handler.is_complete(event)
    assert JOB_NAME in str(failure.value)
    assert "Input CSV is missing the column TIMESTAMP" in str(failure.value)


def test_fails_when_create_failed_with_a_huge_reason_stays_under_the_response_limit(harness: Harness) -> None:
    created(harness)
    event = harness.start(harness.invoke("Create"))
    harness.clock.advance(QUERY_INTERVAL)  # the first poll that describes comes an interval later
    reason = 'Invalid value in column ITEM_ID: "' + "é\n" * 20_000
    described(harness, "CREATE FAILED", failureReason=reason)
    with pytest.raises(ImportFailed) as failure:
        harness.handler.is_complete(event)
    message = str(failure.value)
    assert JOB_NAME in message and message.endswith(TRUNCATION_MARK)
    assert len(json.dumps(message, ensure_ascii=False).encode("utf-8")) <= MAX_MESSAGE_BYTES + 2
    # The response the framework sends: our message, its JS stack, the ids; CloudFormation's cap is 4,096.
    framework_stack = "\n\nLogs: /aws/lambda/fn\n\n" + "    at invokeUserFunction (/var/task/framework.js:1:1)\n" * 10
    response = {
        "Status": "FAILED",
        "Reason": "Error: " + message + framework_stack,
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "PhysicalResourceId": JOB_ARN,
        "LogicalResourceId": "InteractionsImport",
    }
    # Node's JSON.stringify, like ensure_ascii=False, writes non-ASCII characters as UTF-8.
    assert len(json.dumps(response, ensure_ascii=False).encode("utf-8")) < 4096


def test_truncate_never_splits_a_multibyte_character() -> None:
    cut = truncate("€" * 2000, limit=100)
    assert cut.endswith(TRUNCATION_MARK)
    assert len(cut.encode("utf-8")) <= 100
    assert set(cut.removesuffix(TRUNCATION_MARK)) == {"€"}


# -- waiting: quota, dataset not ACTIVE, throttling ----------------------------------------------
@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("LimitExceededException", "More than 5 resources with PENDING or IN_PROGRESS status"),
        ("ResourceInUseException", "Dataset is in CREATE PENDING state"),
        ("ThrottlingException", "Rate exceeded"),
    ],
)
def test_create_waits_its_turn_when_the_service_says_wait(harness: Harness, code: str, message: str) -> None:
    create_error(harness, code, message)
    event = harness.start(harness.invoke("Create"))
    assert event["PhysicalResourceId"] == JOB_ARN
    harness.clock.advance(QUERY_INTERVAL)

    # Still not started: every poll tries again, and waiting is never a failure.
    describe_error(harness, "ResourceNotFoundException", "no job")
    create_error(harness, code, message)
    assert harness.handler.is_complete(event) == {"IsComplete": False}

    describe_error(harness, "ResourceNotFoundException", "no job")
    created(harness)
    assert harness.handler.is_complete(event) == {"IsComplete": False}

    described(harness, "ACTIVE")
    assert harness.handler.is_complete(event)["IsComplete"] is True


def test_throttled_describe_outlasting_boto_retries_keeps_waiting(harness: Harness) -> None:
    created(harness)
    event = harness.start(harness.invoke("Create"))
    harness.clock.advance(QUERY_INTERVAL)  # the first poll that describes comes an interval later
    for _ in range(3):
        describe_error(harness, "ThrottlingException", "Rate exceeded")
        assert harness.handler.is_complete(event) == {"IsComplete": False}
    described(harness, "ACTIVE")
    assert harness.handler.is_complete(event)["IsComplete"] is True


def test_fails_with_its_own_message_when_the_wait_budget_is_spent(harness: Harness) -> None:
    created(harness)
    event = harness.start(harness.invoke("Create"))
    assert event[DEADLINE_KEY] == harness.clock.now + BUDGET
    harness.clock.advance(BUDGET)
    described(harness, "CREATE IN_PROGRESS")
    with pytest.raises(ImportFailed, match="did not become ACTIVE within the deployment's wait budget"):
        harness.handler.is_complete(event)


# -- retried Create / names taken for good --------------------------------------------------------
def test_retried_create_adopts_the_existing_job(harness: Harness) -> None:
    harness.stubber.add_client_error(
        "create_dataset_import_job",
        "ResourceAlreadyExistsException",
        "Dataset import job already exists",
        expected_params=create_params(),
    )
    event = harness.start(harness.invoke("Create"))
    described(harness, "CREATE IN_PROGRESS")
    assert harness.handler.is_complete(event) == {"IsComplete": False}
    described(harness, "ACTIVE", creationDateTime=LATER)
    dataset_described(harness, created=EARLIER)
    assert harness.handler.is_complete(event)["IsComplete"] is True


def test_fails_when_the_taken_name_belongs_to_a_job_of_an_earlier_dataset(harness: Harness) -> None:
    # The stack was deleted and deployed again: same dataset ARN, new (empty) dataset, old job.
    create_error(harness, "ResourceAlreadyExistsException", "exists")
    event = harness.start(harness.invoke("Create"))
    described(harness, "ACTIVE", creationDateTime=EARLIER)
    dataset_described(harness, created=LATER)
    with pytest.raises(ImportFailed, match="is taken by a job of an earlier dataset with the same ARN"):
        harness.handler.is_complete(event)


def test_fails_when_the_name_is_taken_by_a_job_with_different_inputs(harness: Harness) -> None:
    harness.stubber.add_client_error(
        "create_dataset_import_job",
        "ResourceAlreadyExistsException",
        "Dataset import job already exists",
        expected_params=create_params(),
    )
    event = harness.start(harness.invoke("Create"))
    described(harness, "ACTIVE", dataSource={"dataLocation": "s3://other-bucket/old.csv"})
    with pytest.raises(ImportFailed) as failure:
        harness.handler.is_complete(event)
    message = str(failure.value)
    assert f"name {JOB_NAME!r} is already used by a job with different inputs" in message
    assert "s3://other-bucket/old.csv" in message
    assert "set a new job_name" in message


# -- Update ---------------------------------------------------------------------------------------
def test_update_with_unchanged_inputs_starts_no_job(harness: Harness) -> None:
    event = harness.start(harness.invoke("Update", props(), old_properties=props(), physical_id=JOB_ARN))
    assert event["PhysicalResourceId"] == JOB_ARN
    described(harness, "ACTIVE")
    assert harness.handler.is_complete(event)["IsComplete"] is True


def test_update_with_changed_inputs_starts_a_new_job_with_a_new_physical_id(harness: Harness) -> None:
    new_name = "Interactions-fedcba9876543210"
    new_arn = f"arn:aws:personalize:eu-west-1:123456789012:dataset-import-job/{new_name}"
    created(harness, new_name)
    event = harness.start(
        harness.invoke("Update", props(JobName=new_name), old_properties=props(), physical_id=JOB_ARN)
    )
    harness.clock.advance(QUERY_INTERVAL)  # the first poll that describes comes an interval later
    assert event["PhysicalResourceId"] == new_arn
    harness.stubber.add_response(
        "describe_dataset_import_job", job("ACTIVE", name=new_name), {"datasetImportJobArn": new_arn}
    )
    assert harness.handler.is_complete(event)["Data"]["DatasetImportJobArn"] == new_arn


def test_update_changing_inputs_under_the_same_explicit_name_fails_clearly(harness: Harness) -> None:
    changed = props(DataLocation="s3://training-data/v2/")
    # The same name means the same job: no start is tried, the describe shows what differs.
    event = harness.start(harness.invoke("Update", changed, old_properties=props(), physical_id=JOB_ARN))
    described(harness, "ACTIVE")
    with pytest.raises(ImportFailed, match="already used by a job with different inputs"):
        harness.handler.is_complete(event)


# -- Delete ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("status", ["ACTIVE", "CREATE FAILED"])
def test_delete_of_a_finished_job_succeeds_at_once(harness: Harness, status: str) -> None:
    event = harness.start(harness.invoke("Delete", physical_id=JOB_ARN))
    assert event["PhysicalResourceId"] == JOB_ARN
    described(harness, status)
    assert harness.handler.is_complete(event) == {"IsComplete": True}


def test_delete_of_a_job_that_never_existed_succeeds(harness: Harness) -> None:
    event = harness.start(harness.invoke("Delete", physical_id=JOB_ARN))
    describe_error(harness, "ResourceNotFoundException", "not found")
    assert harness.handler.is_complete(event) == {"IsComplete": True}


def test_delete_after_a_failed_create_calls_nothing(harness: Harness) -> None:
    marker = "AWSCDK::CustomResourceProviderFramework::CREATE_FAILED"
    event = harness.start(harness.invoke("Delete", physical_id=marker))
    assert harness.handler.is_complete(event) == {"IsComplete": True}


def test_delete_waits_for_an_in_flight_job_to_end(harness: Harness) -> None:
    event = harness.start(harness.invoke("Delete", physical_id=JOB_ARN))
    for status in ("CREATE PENDING", "CREATE IN_PROGRESS"):
        described(harness, status)
        assert harness.handler.is_complete(event) == {"IsComplete": False}
        harness.clock.advance(60)
    describe_error(harness, "ThrottlingException", "Rate exceeded")
    assert harness.handler.is_complete(event) == {"IsComplete": False}
    described(harness, "ACTIVE")
    assert harness.handler.is_complete(event) == {"IsComplete": True}


def test_delete_stops_waiting_without_failing_at_the_end_of_the_budget(harness: Harness) -> None:
    event = harness.start(harness.invoke("Delete", physical_id=JOB_ARN))
    harness.clock.advance(BUDGET)
    described(harness, "CREATE IN_PROGRESS")
    assert harness.handler.is_complete(event) == {"IsComplete": True}
    assert json.loads(harness.lines[-1])["decision"] == "delete-gave-up"


def test_delete_never_fails_on_an_unexpected_error(harness: Harness) -> None:
    event = harness.start(harness.invoke("Delete", physical_id=JOB_ARN))
    describe_error(harness, "AccessDeniedException", "denied")
    assert harness.handler.is_complete(event) == {"IsComplete": True}


# -- inputs the service rejects -------------------------------------------------------------------
def test_fails_when_an_input_is_invalid_naming_the_inputs(harness: Harness) -> None:
    harness.stubber.add_client_error(
        "create_dataset_import_job",
        "InvalidInputException",
        "1 validation error detected: Value at 'roleArn' failed",
        expected_params=create_params(),
    )
    with pytest.raises(ImportFailed) as failure:
        harness.handler.on_event(harness.invoke("Create"))
    message = str(failure.value)
    assert "InvalidInputException" in message and "Value at 'roleArn' failed" in message
    assert ROLE_ARN in message and DATASET_ARN in message and JOB_NAME in message


def test_fails_when_the_dataset_is_not_found_naming_it(harness: Harness) -> None:
    harness.stubber.add_client_error(
        "create_dataset_import_job",
        "ResourceNotFoundException",
        "Could not find resource",
        expected_params=create_params(),
    )
    with pytest.raises(ImportFailed, match=f"the dataset '{DATASET_ARN}' or the role '{ROLE_ARN}' was not found"):
        harness.handler.on_event(harness.invoke("Create"))


def test_fails_when_an_invalid_input_surfaces_during_the_wait(harness: Harness) -> None:
    create_error(harness, "LimitExceededException", "quota")
    event = harness.start(harness.invoke("Create"))
    harness.clock.advance(QUERY_INTERVAL)
    describe_error(harness, "ResourceNotFoundException", "no job")
    create_error(harness, "InvalidInputException", "bad dataLocation")
    with pytest.raises(ImportFailed, match="bad dataLocation"):
        harness.handler.is_complete(event)


# -- logs -----------------------------------------------------------------------------------------
def test_logs_one_json_line_per_decision_and_never_the_response_url(harness: Harness) -> None:
    created(harness)
    event = harness.start(harness.invoke("Create"))
    harness.clock.advance(QUERY_INTERVAL)  # the first poll that describes comes an interval later
    described(harness, "CREATE IN_PROGRESS")
    harness.handler.is_complete(event)
    described(harness, "ACTIVE")
    harness.handler.is_complete(event)
    decisions = [json.loads(line)["decision"] for line in harness.lines]
    assert decisions == ["job-started", "waiting", "job-active"]
    assert all(RESPONSE_URL not in line and "ResponseURL" not in line for line in harness.lines)


def test_default_client_honours_the_standard_endpoint_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_PERSONALIZE", "http://127.0.0.1:4599")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv(contract.WAIT_BUDGET_ENV, "120")
    index._default_handler.cache_clear()
    handler = index._default_handler()
    index._default_handler.cache_clear()
    assert handler._client.meta.endpoint_url == "http://127.0.0.1:4599"
    assert handler._wait_budget == 120.0


# -- polling cost ---------------------------------------------------------------------------------
def test_the_poll_right_after_a_start_makes_no_call_and_the_next_one_describes(harness: Harness) -> None:
    created(harness)
    event = harness.start(harness.invoke("Create"))
    assert event[STARTED_KEY] == harness.clock.now
    # No describe is stubbed: any call here would fail the test.
    assert harness.handler.is_complete(event) == {"IsComplete": False}
    harness.clock.advance(QUERY_INTERVAL)
    described(harness, "ACTIVE")
    assert harness.handler.is_complete(event)["IsComplete"] is True


def test_a_deferred_start_is_retried_from_the_next_poll(harness: Harness) -> None:
    create_error(harness, "LimitExceededException", "More than 5 resources with PENDING or IN_PROGRESS status.")
    event = harness.start(harness.invoke("Create"))
    assert harness.handler.is_complete(event) == {"IsComplete": False}  # no call: the service just said wait
    harness.clock.advance(QUERY_INTERVAL)
    describe_error(harness, "ResourceNotFoundException", "no such job")
    created(harness)
    assert harness.handler.is_complete(event) == {"IsComplete": False}


def test_a_retried_create_of_an_existing_job_is_described_at_once(harness: Harness) -> None:
    create_error(harness, "ResourceAlreadyExistsException", "exists")
    event = harness.start(harness.invoke("Create"))
    assert STARTED_KEY not in event
    described(harness, "ACTIVE", creationDateTime=LATER)
    dataset_described(harness, created=EARLIER)
    assert harness.handler.is_complete(event)["IsComplete"] is True
