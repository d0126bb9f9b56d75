"""The real handler, driven like the Provider framework, against the emulated Personalize.

Each test deploys a synthesized stack's dependencies into a fresh emulated region, then sends the
``Custom::PersonalizeDatasetImport`` events CloudFormation would send, with the properties the
synth produced (tokens replaced by the emulated resources). Time is virtual: nothing sleeps.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from constructs_personalize.handlers.dataset_import import contract, index
from constructs_personalize.handlers.dataset_import.request import ImportRequest
from tests.emulator.cloudformation import EmulatedStack
from tests.emulator.provider_framework import CREATE_FAILED_MARKER, Outcome
from tests.emulator.service import JobTiming
from tests.emulator.world import World
from tests.lifecycle.stacks import (
    BATCH,
    EXAMPLE_STACK,
    STACK,
    synth_changed_good,
    synth_example,
    synth_lifecycle,
)

pytestmark = pytest.mark.lifecycle


@dataclass(frozen=True)
class Assemblies:
    lifecycle: Path
    changed: Path
    example: Path


@pytest.fixture(scope="module")
def assemblies(tmp_path_factory: pytest.TempPathFactory) -> Assemblies:
    # One synth per app for the whole module; each test deploys it into its own emulated region.
    data = tmp_path_factory.mktemp("data")
    return Assemblies(
        lifecycle=synth_lifecycle(tmp_path_factory.mktemp("lifecycle"), data),
        changed=synth_changed_good(tmp_path_factory.mktemp("changed"), data),
        example=synth_example(tmp_path_factory.mktemp("example")),
    )


@pytest.fixture
def stack(world: World, assemblies: Assemblies) -> EmulatedStack:
    return EmulatedStack(assemblies.lifecycle, STACK, world).deploy_dependencies()


def _job(world: World, arn: str) -> dict[str, Any]:
    return dict(world.personalize().describe_dataset_import_job(datasetImportJobArn=arn)["datasetImportJob"])


def _jobs(world: World) -> list[str]:
    pages = world.personalize().get_paginator("list_dataset_import_jobs").paginate()
    return [job["jobName"] for page in pages for job in page["datasetImportJobs"]]


def _name(event: dict[str, Any]) -> str:
    """The job name the handler derives for this event (its properties, stack instance and request)."""
    return ImportRequest.from_event(event).job_name


def _assert_active(world: World, outcome: Outcome, name: str) -> None:
    assert (outcome.status, outcome.reason) == ("SUCCESS", "")
    assert outcome.data == {"DatasetImportJobArn": outcome.physical_id, "JobName": name}
    assert _job(world, outcome.physical_id)["status"] == "ACTIVE"


def test_example_app_imports_its_sample_data(world: World, assemblies: Assemblies) -> None:
    example = EmulatedStack(assemblies.example, EXAMPLE_STACK, world).deploy_dependencies()
    (logical_id,) = example.import_ids()
    framework = example.framework()
    event = example.event(logical_id)
    outcome = framework.run(event)
    _assert_active(world, outcome, _name(event))
    finished = world.emulator.job_finished_at(outcome.physical_id)
    assert finished is not None
    assert 0 <= outcome.finished_at - finished <= framework.query_interval
    assert _job(world, outcome.physical_id)["dataSource"]["dataLocation"].startswith("s3://personalizeimportexample-")


@pytest.fixture
def entry_points(world: World, stack: EmulatedStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # The Lambda entry points build their own client from the environment, as in AWS Lambda;
    # only the wall clock is swapped for the emulated region's virtual one.
    _, _, budget = stack.wait_settings()
    monkeypatch.setenv(contract.WAIT_BUDGET_ENV, str(budget))
    monkeypatch.setattr(index, "_wall_clock", world.clock)
    index._default_handler.cache_clear()
    yield
    index._default_handler.cache_clear()


@pytest.mark.usefixtures("entry_points")
def test_lambda_entry_points_reach_the_emulator_through_the_environment(world: World, stack: EmulatedStack) -> None:
    logical_id = stack.import_id("Good")
    framework = stack.framework(
        on_event=lambda e: index.on_event(e, None), is_complete=lambda e: index.is_complete(e, None)
    )
    event = stack.event(logical_id)
    outcome = framework.run(event)
    _assert_active(world, outcome, _name(event))


def test_bad_data_fails_the_deployment_with_the_failure_reason(world: World, stack: EmulatedStack) -> None:
    framework = stack.framework()
    logical_id = stack.import_id("Bad")
    event = stack.event(logical_id)
    outcome = framework.run(event)
    reason = _job(world, outcome.physical_id)["failureReason"]
    assert outcome.status == "FAILED"
    assert "looks like milliseconds" in reason
    name = _name(event)
    assert outcome.reason == f"dataset import job {name!r} ended CREATE FAILED: {reason}"
    # CloudFormation rolls back: the Delete of the failed resource completes at once.
    rollback = framework.run(stack.event(logical_id, "Delete", physical_id=outcome.physical_id))
    assert (rollback.status, rollback.is_complete_calls) == ("SUCCESS", 1)


def test_six_imports_at_once_wait_for_the_quota_and_all_end_active(world: World, stack: EmulatedStack) -> None:
    lines: list[str] = []
    framework = stack.framework(log=lines.append)
    ids = [stack.import_id(f"Batch{index}") for index in range(BATCH)]
    events = [stack.event(logical_id) for logical_id in ids]
    outcomes = framework.run_all(events)
    for event, outcome in zip(events, outcomes, strict=True):
        _assert_active(world, outcome, _name(event))
    deferred = [json.loads(line) for line in lines if '"start-deferred"' in line]
    assert deferred and {record["code"] for record in deferred} == {"LimitExceededException"}
    created = sorted(_job(world, o.physical_id)["creationDateTime"].timestamp() for o in outcomes)
    finished = sorted(world.emulator.job_finished_at(o.physical_id) or 0 for o in outcomes)
    assert created[5] >= finished[0]  # the sixth job started only once a slot was free


def test_dataset_still_pending_waits_for_it(world: World, stack: EmulatedStack) -> None:
    properties = stack.import_properties(stack.import_id("Good"))
    world.emulator.hold_dataset(properties["DatasetArn"], 600)
    ready_at = world.clock() + 600
    event = stack.event(stack.import_id("Good"))
    outcome = stack.framework().run(event)
    _assert_active(world, outcome, _name(event))
    assert _job(world, outcome.physical_id)["creationDateTime"].timestamp() >= ready_at
    assert world.emulator.count("CreateDatasetImportJob") > 1


def test_throttling_that_outlasts_boto3_retries_still_completes(world: World, stack: EmulatedStack) -> None:
    lines: list[str] = []
    logical_id = stack.import_id("Good")
    # Standard retry mode makes 3 attempts per call: 8 throttles defeat it twice and then some.
    world.emulator.throttle(8, operations={"CreateDatasetImportJob", "DescribeDatasetImportJob"})
    event = stack.event(logical_id)
    outcome = stack.framework(log=lines.append).run(event)
    _assert_active(world, outcome, _name(event))
    decisions = [json.loads(line)["decision"] for line in lines]
    assert "start-deferred" in decisions and "describe-throttled" in decisions


def test_a_retried_create_event_makes_one_job(world: World, stack: EmulatedStack) -> None:
    logical_id = stack.import_id("Good")
    framework = stack.framework()
    event = stack.event(logical_id)
    first, second = framework.run(event), framework.run(event)
    assert first.physical_id == second.physical_id
    _assert_active(world, second, _name(event))
    assert _jobs(world) == [_name(event)]


def test_update_with_unchanged_properties_keeps_the_job(world: World, stack: EmulatedStack) -> None:
    logical_id = stack.import_id("Good")
    framework = stack.framework()
    created = framework.run(stack.event(logical_id))
    properties = stack.import_properties(logical_id)
    update = stack.event(
        logical_id, "Update", properties=properties, old_properties=properties, physical_id=created.physical_id
    )
    updated = framework.run(update)
    assert (updated.status, updated.physical_id, updated.is_complete_calls) == ("SUCCESS", created.physical_id, 1)
    assert world.emulator.count("CreateDatasetImportJob") == 1


def test_update_with_changed_data_imports_again(world: World, stack: EmulatedStack, assemblies: Assemblies) -> None:
    logical_id = stack.import_id("Good")
    framework = stack.framework()
    create = stack.event(logical_id)
    created = framework.run(create)
    old = stack.import_properties(logical_id)
    new = stack.update_to(assemblies.changed).import_properties(logical_id)
    update = stack.event(logical_id, "Update", properties=new, old_properties=old, physical_id=created.physical_id)
    assert _name(update) != _name(create) and new["DataLocation"] == old["DataLocation"]
    updated = framework.run(update)
    _assert_active(world, updated, _name(update))
    assert updated.physical_id != created.physical_id
    # A new physical id makes CloudFormation delete the old one; the old job is done, so that is immediate.
    cleanup = framework.run(stack.event(logical_id, "Delete", properties=old, physical_id=created.physical_id))
    assert (cleanup.status, cleanup.is_complete_calls) == ("SUCCESS", 1)
    assert sorted(_jobs(world)) == sorted([_name(create), _name(update)])


def test_delete_while_a_job_is_in_flight_waits_until_it_ends(world: World, stack: EmulatedStack) -> None:
    logical_id = stack.import_id("Good")
    framework = stack.framework()
    # The Create was interrupted (e.g. another resource failed): the job runs on; then the Delete arrives.
    started = framework.on_event(stack.event(logical_id))
    job_arn = started["PhysicalResourceId"]
    deleted = framework.run(stack.event(logical_id, "Delete", physical_id=job_arn))
    finished = world.emulator.job_finished_at(job_arn)
    assert deleted.status == "SUCCESS" and deleted.is_complete_calls > 1
    assert finished is not None and finished <= deleted.finished_at < finished + framework.query_interval


def test_delete_after_a_create_that_failed_to_start(world: World, stack: EmulatedStack) -> None:
    logical_id = stack.import_id("Good")
    properties = stack.import_properties(logical_id)
    properties["DatasetArn"] = properties["DatasetArn"].replace("/lifecycle/", "/no-such-group/")
    framework = stack.framework()
    created = framework.run(stack.event(logical_id, properties=properties))
    assert created.status == "FAILED" and created.physical_id == CREATE_FAILED_MARKER
    assert "ResourceNotFoundException" in created.reason and "no-such-group" in created.reason
    deleted = framework.run(stack.event(logical_id, "Delete", properties=properties, physical_id=created.physical_id))
    assert deleted.status == "SUCCESS"
    assert _jobs(world) == []


def test_a_job_slower_than_the_wait_budget_fails_with_advice(world: World, stack: EmulatedStack) -> None:
    logical_id = stack.import_id("Good")
    properties = stack.import_properties(logical_id)
    event = stack.event(logical_id)
    world.emulator.set_job_timing(_name(event), JobTiming(pending=30, running=7200))
    framework = stack.framework()
    outcome = framework.run(event)
    assert outcome.status == "FAILED"
    assert "did not become ACTIVE within the deployment's wait budget" in outcome.reason
    assert outcome.reason != "Operation timed out"  # the handler speaks before the framework gives up
    # The rollback's Delete must not leave the stack stuck although the job is still running.
    deleted = framework.run(stack.event(logical_id, "Delete", properties=properties, physical_id=outcome.physical_id))
    assert deleted.status == "SUCCESS"
    assert _job(world, outcome.physical_id)["status"] == "CREATE IN_PROGRESS"
