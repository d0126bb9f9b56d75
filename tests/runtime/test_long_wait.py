"""Imports that do not hold the custom resource: a long wait (WaitCondition + waiter) or none at all."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from constructs_personalize.handlers.dataset_import import lifecycle, long_wait
from constructs_personalize.handlers.dataset_import.errors import MAX_MESSAGE_BYTES, TRUNCATION_MARK
from constructs_personalize.handlers.dataset_import.request import ImportRequest
from tests.cloudformation_events import custom_resource_event
from tests.emulator.clock import VirtualClock
from tests.runtime.conftest import BUDGET, JOB_ARN, JOB_NAME, create_params, job, props

HANDLE = "https://cloudformation-waitcondition-eu-west-1.s3.amazonaws.com/arn%3Aaws/Bulk/abc?X-Amz-Signature=x"
MACHINE = "arn:aws:states:eu-west-1:123456789012:stateMachine:LongWaiter"
TWELVE_HOURS = 43_200.0
INTERVAL = 60.0


def long_props(**overrides: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "WaitMode": "SIGNAL",
        "WaitHandle": HANDLE,
        "WaiterStateMachineArn": MACHINE,
        "WaitTimeoutSeconds": str(int(TWELVE_HOURS)),
        "WaitIntervalSeconds": str(int(INTERVAL)),
    }
    return props(**{**settings, **overrides})


@dataclass
class Long:
    stubber: Stubber
    clock: VirtualClock
    handler: lifecycle.DatasetImportHandler
    executions: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    signals: list[tuple[str, dict[str, str]]] = field(default_factory=list)


@pytest.fixture
def long() -> Iterator[Long]:
    client = boto3.client("personalize", region_name="eu-west-1", aws_access_key_id="t", aws_secret_access_key="t")
    clock = VirtualClock()
    harness = Long(Stubber(client), clock, lifecycle.DatasetImportHandler(client))

    def start_waiter(machine: str, name: str, waiter_input: str) -> None:
        harness.executions.append((machine, name, json.loads(waiter_input)))

    def signal(url: str, body: Mapping[str, str]) -> None:
        harness.signals.append((url, dict(body)))

    harness.handler = lifecycle.DatasetImportHandler(
        client, clock=clock, wait_budget_seconds=BUDGET, emit=lambda _: None, start_waiter=start_waiter, signal=signal
    )
    with harness.stubber:
        yield harness
        harness.stubber.assert_no_pending_responses()


def _event(request_type: str, properties: dict[str, Any]) -> dict[str, Any]:
    return custom_resource_event(request_type, properties, logical_id="Bulk")


def _started(long: Long, properties: dict[str, Any]) -> dict[str, Any]:
    long.stubber.add_response("create_dataset_import_job", {"datasetImportJobArn": JOB_ARN}, create_params())
    event = _event("Create", properties)
    return {**event, **long.handler.on_event(event)}


def test_a_long_wait_completes_the_resource_once_the_job_exists_and_starts_one_waiter(long: Long) -> None:
    event = _started(long, long_props())
    answer = long.handler.is_complete(event)
    assert answer == {"IsComplete": True, "Data": {"DatasetImportJobArn": JOB_ARN, "JobName": JOB_NAME}}
    ((machine, name, waiter_input),) = long.executions
    assert machine == MACHINE and name.startswith(f"{JOB_NAME}-") and len(name) <= 80
    assert waiter_input == {
        "JobArn": JOB_ARN,
        "JobName": JOB_NAME,
        "WaitHandle": HANDLE,
        "UniqueId": JOB_NAME,
        "Deadline": long.clock.now + TWELVE_HOURS - long_wait.SIGNAL_MARGIN_SECONDS,
        "WaitIntervalSeconds": INTERVAL,
        "PollIntervalSeconds": INTERVAL,
        "Create": create_params(),
    }


def test_a_long_wait_without_a_free_slot_hands_the_wait_for_one_to_the_waiter_at_once(long: Long) -> None:
    long.stubber.add_client_error("create_dataset_import_job", "LimitExceededException", "More than 5")
    event = _event("Create", long_props())
    event = {**event, **long.handler.on_event(event)}
    # No describe, no second start: the resource completes and the waiter (12 hours) waits for a slot.
    assert long.handler.is_complete(event)["IsComplete"] is True
    ((_, _, waiter_input),) = long.executions
    assert waiter_input["Create"] == create_params()


def _waiter_state(long: Long, deadline: float) -> dict[str, Any]:
    return {
        "JobArn": JOB_ARN,
        "JobName": JOB_NAME,
        "WaitHandle": HANDLE,
        "UniqueId": JOB_NAME,
        "Deadline": deadline,
        "WaitIntervalSeconds": int(INTERVAL),
        "PollIntervalSeconds": int(INTERVAL),
        "Create": create_params(),
    }


def _not_found(long: Long) -> None:
    long.stubber.add_client_error(
        "describe_dataset_import_job",
        "ResourceNotFoundException",
        "no job",
        expected_params={"datasetImportJobArn": JOB_ARN},
    )


def test_the_waiter_starts_the_job_once_a_slot_frees_and_signals_when_it_is_active(long: Long) -> None:
    state = _waiter_state(long, long.clock.now + 7200)
    _not_found(long)
    long.stubber.add_client_error(
        "create_dataset_import_job", "LimitExceededException", "More than 5", expected_params=create_params()
    )
    state = long.handler.wait_step(state)
    assert state["Done"] is False and "LimitExceededException" in state["Status"]
    long.clock.advance(INTERVAL)
    _not_found(long)
    long.stubber.add_response("create_dataset_import_job", {"datasetImportJobArn": JOB_ARN}, create_params())
    state = long.handler.wait_step(state)
    assert state["Done"] is False and long.signals == []
    long.clock.advance(INTERVAL)
    long.stubber.add_response("describe_dataset_import_job", job("ACTIVE"), {"datasetImportJobArn": JOB_ARN})
    assert long.handler.wait_step(state)["Done"] is True
    assert [body["Status"] for _, body in long.signals] == ["SUCCESS"]


def test_the_waiter_names_the_quota_when_no_slot_freed_within_the_wait(long: Long) -> None:
    state = _waiter_state(long, long.clock.now + 30)
    _not_found(long)
    long.stubber.add_client_error("create_dataset_import_job", "LimitExceededException", "More than 5")
    state = long.handler.wait_step(state)
    assert state["WaitIntervalSeconds"] == 30  # cut short to land on the deadline
    long.clock.advance(30)
    _not_found(long)
    long.stubber.add_client_error("create_dataset_import_job", "LimitExceededException", "More than 5")
    assert long.handler.wait_step(state)["Done"] is True
    ((_, body),) = long.signals
    assert body["Status"] == "FAILURE"
    assert "never started" in body["Reason"] and "5 import jobs per account and region" in body["Reason"]


@pytest.mark.parametrize("interval", [120, 190, 600])
def test_the_waiter_signals_its_failure_before_the_wait_condition_times_out(long: Long, interval: int) -> None:
    """Whatever the interval, the last poll lands on "timeout - 60 s", never after CloudFormation's timeout."""
    timeout = 8 * 3600.0
    condition_ends = long.clock.now + timeout
    state = {**_waiter_state(long, condition_ends - long_wait.SIGNAL_MARGIN_SECONDS), "PollIntervalSeconds": interval}
    state["WaitIntervalSeconds"] = interval
    while True:
        long.clock.advance(state["WaitIntervalSeconds"])
        long.stubber.add_response(
            "describe_dataset_import_job", job("CREATE IN_PROGRESS"), {"datasetImportJobArn": JOB_ARN}
        )
        state = long.handler.wait_step(state)
        if state["Done"]:
            break
    ((_, body),) = long.signals
    assert body["Status"] == "FAILURE" and long.clock.now < condition_ends


def test_a_signal_body_keeps_to_4096_bytes_as_sent_whatever_the_script(long: Long) -> None:
    reason = "インポートジョブが失敗しました。" * 400
    assert _step(long, "CREATE FAILED", failureReason=reason)["Done"] is True
    ((_, body),) = long.signals
    assert len(long_wait.encode_signal(body)) <= long_wait.MAX_SIGNAL_BYTES
    assert body["Reason"].endswith(TRUNCATION_MARK)
    assert json.loads(long_wait.encode_signal(body)) == body


def test_deleting_a_long_import_stops_its_waiter(long: Long) -> None:
    stopped: list[str] = []
    long.handler = lifecycle.DatasetImportHandler(
        long.handler._client, clock=long.clock, emit=lambda _: None, stop_waiter=stopped.append
    )
    event = {**_event("Delete", long_props()), "PhysicalResourceId": JOB_ARN}
    long.handler.on_event(event)
    name = long_wait.waiter_execution_name(ImportRequest.from_properties(long_props()))
    assert stopped == [f"arn:aws:states:eu-west-1:123456789012:execution:LongWaiter:{name}"]


def test_an_update_to_a_new_wait_handle_stops_the_old_handles_waiter(long: Long) -> None:
    stopped: list[str] = []
    long.handler = lifecycle.DatasetImportHandler(
        long.handler._client, clock=long.clock, emit=lambda _: None, stop_waiter=stopped.append
    )
    new = long_props(WaitHandle=HANDLE + "-new", WaitTimeoutSeconds="3600")
    event = custom_resource_event("Update", new, logical_id="Bulk", old_properties=long_props(), physical_id=JOB_ARN)
    assert long.handler.on_event(event)["PhysicalResourceId"] == JOB_ARN
    old_name = long_wait.waiter_execution_name(ImportRequest.from_properties(long_props()))
    assert stopped == [f"arn:aws:states:eu-west-1:123456789012:execution:LongWaiter:{old_name}"]


def test_a_waiter_that_cannot_be_stopped_never_fails_the_delete(long: Long) -> None:
    def refuse(_arn: str) -> None:
        raise RuntimeError("AccessDenied")

    long.handler = lifecycle.DatasetImportHandler(
        long.handler._client, clock=long.clock, emit=lambda _: None, stop_waiter=refuse
    )
    event = {**_event("Delete", long_props()), "PhysicalResourceId": JOB_ARN}
    assert long.handler.on_event(event)["PhysicalResourceId"] == JOB_ARN


def test_do_not_wait_completes_once_the_job_exists_without_a_waiter(long: Long) -> None:
    event = _started(long, props(WaitMode="NONE"))
    assert long.handler.is_complete(event)["Data"] == {"DatasetImportJobArn": JOB_ARN, "JobName": JOB_NAME}
    assert long.executions == [] and long.signals == []


def _step(long: Long, status: str, deadline: float | None = None, **job_fields: Any) -> dict[str, Any]:
    long.stubber.add_response(
        "describe_dataset_import_job", job(status, **job_fields), {"datasetImportJobArn": JOB_ARN}
    )
    state = {
        "JobArn": JOB_ARN,
        "JobName": JOB_NAME,
        "WaitHandle": HANDLE,
        "UniqueId": JOB_NAME,
        "Deadline": deadline if deadline is not None else long.clock.now + 3600,
        "WaitIntervalSeconds": INTERVAL,
    }
    return long.handler.wait_step(state)


def test_wait_step_keeps_polling_while_the_job_runs(long: Long) -> None:
    assert _step(long, "CREATE IN_PROGRESS")["Done"] is False
    assert long.signals == []


def test_wait_step_signals_success_when_the_job_is_active(long: Long) -> None:
    assert _step(long, "ACTIVE")["Done"] is True
    ((url, body),) = long.signals
    assert url == HANDLE
    assert body == {
        "Status": "SUCCESS",
        "UniqueId": JOB_NAME,
        "Reason": f"dataset import job {JOB_NAME!r} is ACTIVE",
        "Data": JOB_ARN,
    }


def test_wait_step_signals_failure_with_personalizes_reason_cut_to_size(long: Long) -> None:
    reason = "Input CSV has columns that are not in the schema: " + "é" * 5000
    assert _step(long, "CREATE FAILED", failureReason=reason)["Done"] is True
    ((_, body),) = long.signals
    assert body["Status"] == "FAILURE"
    assert body["Reason"].startswith(f"dataset import job {JOB_NAME!r} ended CREATE FAILED: Input CSV has columns")
    assert len(json.dumps(body["Reason"], ensure_ascii=False).encode()) <= MAX_MESSAGE_BYTES + 2


def test_wait_step_signals_failure_when_its_wait_is_spent(long: Long) -> None:
    assert _step(long, "CREATE IN_PROGRESS", deadline=long.clock.now)["Done"] is True
    ((_, body),) = long.signals
    assert body["Status"] == "FAILURE" and "did not become ACTIVE within the deployment's wait" in body["Reason"]
    assert f"python -m constructs_personalize wait {JOB_ARN}" in body["Reason"]


def test_wait_step_rides_out_throttling(long: Long) -> None:
    long.stubber.add_client_error(
        "describe_dataset_import_job",
        "ThrottlingException",
        "Rate exceeded",
        expected_params={"datasetImportJobArn": JOB_ARN},
    )
    state = {"JobArn": JOB_ARN, "JobName": JOB_NAME, "WaitHandle": HANDLE, "Deadline": long.clock.now + 60}
    assert long.handler.wait_step(state)["Done"] is False
    assert long.signals == []
