"""The library's own long wait (``ImportWait.up_to``), synthesized and deployed with the real handler.

No hand-written template and no fake: the synth's waiter state machine, wait function, wait
condition and handle, and the real ``DatasetImportHandler`` wired by ``EmulatedStack.framework``
(its ``start_waiter`` and ``signal`` to the region, its ``wait_step`` to the template's function).
Time is virtual: a 12-hour import costs seconds.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aws_cdk import App, Duration, Stack
from aws_cdk import aws_personalize as personalize

from constructs_personalize import DatasetImport, DatasetSchema, DataSource, ImportWait
from tests.constants import ROLE_ARN, SAMPLE_DIR
from tests.emulator.cloudformation import EmulatedStack
from tests.emulator.deployment import COMPLETE
from tests.emulator.samples import interactions_csv
from tests.emulator.service import JobTiming
from tests.emulator.step_functions import SUCCEEDED
from tests.emulator.world import World
from tests.infra.helpers import ENV

pytestmark = pytest.mark.lifecycle
HOUR = 3600
STACK = "RecsLong"


def _synth(outdir: Path, tags: dict[str, str], bad: Path | None = None) -> Path:
    app = App(outdir=str(outdir), context={"aws:cdk:enable-path-metadata": True})
    stack = Stack(app, STACK, env=ENV)
    schema = personalize.CfnSchema(stack, "Schema", name="recslong", schema=DatasetSchema.interactions().to_json())
    dataset = personalize.CfnDataset(
        stack,
        "Dataset",
        name="recslong-interactions",
        dataset_group_arn=personalize.CfnDatasetGroup(stack, "Group", name="recslong").attr_dataset_group_arn,
        dataset_type="Interactions",
        schema_arn=schema.attr_schema_arn,
    )
    DatasetImport(
        stack,
        "Bulk",
        dataset_arn=dataset.attr_dataset_arn,
        data=DataSource.from_asset(bad or SAMPLE_DIR),
        schema=DatasetSchema.interactions(),
        validate_data=bad is None,
        wait=ImportWait.up_to(Duration.hours(12)),
        tags=tags,
    )
    app.synth()
    return outdir


@pytest.fixture(scope="module")
def assemblies(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """The stack, a later synth of it whose only change is the job's tags, and one with bad data."""
    bad = tmp_path_factory.mktemp("bad-data")
    (bad / "interactions.csv").write_bytes(interactions_csv(timestamp_scale=1000))
    return (
        _synth(tmp_path_factory.mktemp("long-v1"), {"team": "recs"}),
        _synth(tmp_path_factory.mktemp("long-v2"), {"team": "ml"}),
        _synth(tmp_path_factory.mktemp("long-bad"), {"team": "recs"}, bad=bad),
    )


def _signals(world: World, stack: EmulatedStack) -> list[dict[str, str]]:
    (properties,) = [stack.import_properties(logical_id) for logical_id in stack.import_ids()]
    return world.signals(properties["WaitHandle"])


def test_a_twelve_hour_deploy_holds_until_an_eleven_and_a_half_hour_import_is_active(
    world: World, assemblies: tuple[Path, Path, Path]
) -> None:
    world.emulator.job_timing = JobTiming(pending=60, running=11.5 * HOUR)
    stack = EmulatedStack(assemblies[0], STACK, world)
    deployment = stack.deploy()
    (execution,) = world.states.executions()
    assert (execution.status, execution.error, execution.cause) == (SUCCEEDED, "", "")
    assert deployment.succeeded, [(record.logical_id, record.reason) for record in deployment.failures]
    (condition,) = stack.spec.of_type("AWS::CloudFormation::WaitCondition")
    (import_id,) = stack.import_ids()
    job_arn = deployment.physical_id(import_id)
    finished = world.emulator.job_finished_at(job_arn)
    assert finished is not None
    # Noticed within one query interval of the job's end; the custom resource itself returned at once.
    assert 0 <= deployment.completed_at(condition) - finished <= 30
    assert deployment.completed_at(import_id) - deployment.started_at < 120
    (signal,) = _signals(world, stack)
    assert signal["Status"] == "SUCCESS" and signal["Data"] == job_arn
    # One Describe per query interval while it waits.
    describes = world.emulator.calls_for("DescribeDatasetImportJob", job_arn)
    assert describes <= (finished - deployment.started_at) / 30 + 3


def test_a_long_import_that_fails_fails_the_deploy_with_personalizes_reason(
    world: World, assemblies: tuple[Path, Path, Path]
) -> None:
    world.emulator.job_timing = JobTiming(pending=60, running=3 * HOUR)
    stack = EmulatedStack(assemblies[2], STACK, world)
    deployment = stack.deploy()
    (failure,) = deployment.failures
    assert failure.resource_type == "AWS::CloudFormation::WaitCondition"
    assert "WaitCondition received failed message" in failure.reason
    assert "ended CREATE FAILED" in failure.reason and "milliseconds" in failure.reason
    (signal,) = _signals(world, stack)
    assert len(json.dumps(signal).encode("utf-8")) <= 4096


def test_a_long_import_slower_than_its_wait_fails_with_the_waiters_message_before_the_timeout(
    world: World, assemblies: tuple[Path, Path, Path]
) -> None:
    world.emulator.job_timing = JobTiming(pending=60, running=14 * HOUR)
    stack = EmulatedStack(assemblies[0], STACK, world)
    deployment = stack.deploy()
    (failure,) = deployment.failures
    assert "did not become ACTIVE within the deployment's wait" in failure.reason
    assert "timed out" not in failure.reason
    assert failure.completed_at is not None
    assert 11.9 * HOUR < failure.completed_at - deployment.started_at < 12 * HOUR


def test_a_long_import_waits_its_turn_for_the_quota_a_pending_dataset_and_throttling(
    world: World, assemblies: tuple[Path, Path, Path]
) -> None:
    # Five other imports hold every slot for 20 minutes; the dataset is pending for 10; Describe is throttled.
    world.bucket("other-imports")
    other = world.interactions_dataset(group="others")
    location = world.put_object("other-imports", "in/data.csv", interactions_csv())
    world.emulator.job_timing = JobTiming(pending=60, running=20 * 60)
    for index in range(5):
        world.personalize().create_dataset_import_job(
            jobName=f"other-{index}", datasetArn=other, dataSource={"dataLocation": location}, roleArn=ROLE_ARN
        )
    world.emulator.throttle(8, {"DescribeDatasetImportJob"})
    stack = EmulatedStack(assemblies[0], STACK, world)
    world.emulator.dataset_seconds = 600
    deployment = stack.deploy()
    assert deployment.succeeded, [(record.logical_id, record.reason) for record in deployment.failures]
    (import_id,) = stack.import_ids()
    (condition_id,) = stack.spec.of_type("AWS::CloudFormation::WaitCondition")
    # The custom resource handed the wait for a slot to the waiter (no hour of its own spent on it) ...
    assert deployment.completed_at(import_id) - deployment.started_at < 20 * 60 - 60
    # ... and the deployment held on the wait condition until the job, started once a slot freed, was ACTIVE.
    assert deployment.completed_at(condition_id) - deployment.started_at >= 20 * 60 + 5 * 60
    assert [s["Status"] for s in _signals(world, stack)] == ["SUCCESS"]


def test_a_rollback_during_a_long_import_ends_recoverable_and_a_second_delete_finishes(
    world: World, assemblies: tuple[Path, Path, Path]
) -> None:
    # The job needs 14 hours, the wait 12: the deploy fails and CloudFormation deletes what it created.
    world.emulator.job_timing = JobTiming(pending=60, running=14 * HOUR)
    stack = EmulatedStack(assemblies[0], STACK, world)
    (import_id,) = stack.import_ids()
    deployment = stack.deploy()
    assert not deployment.succeeded
    job_arn = deployment.physical_id(import_id)
    rollback = stack.delete()
    # The import's Delete waits for the job up to its budget, then lets go; the dataset cannot go
    # while its import runs: the stack stops in a state that a later delete finishes.
    assert rollback.stack_status == "DELETE_FAILED"
    (stuck,) = [r for r in rollback.records.values() if r.resource_status == "DELETE_FAILED"]
    assert stuck.resource_type == "AWS::Personalize::Dataset" and "ResourceInUseException" in stuck.reason
    assert (
        world.personalize().describe_dataset_import_job(datasetImportJobArn=job_arn)["datasetImportJob"]["status"]
        == "CREATE IN_PROGRESS"
    )
    # The documented recovery: wait for the job (python -m constructs_personalize wait <arn>), delete again.
    finished = world.emulator.job_finished_at(job_arn)
    while finished is None:
        world.clock.advance(600)
        finished = world.emulator.job_finished_at(job_arn)
    assert stack.delete().stack_status == "DELETE_COMPLETE"


def test_a_tag_only_update_of_a_long_import_starts_no_new_wait(
    world: World, assemblies: tuple[Path, Path, Path]
) -> None:
    world.emulator.job_timing = JobTiming(pending=30, running=HOUR)
    stack = EmulatedStack(assemblies[0], STACK, world)
    stack.deploy()
    (logical_id,) = stack.import_ids()
    deployment = stack.update(assemblies[1])
    update = deployment.records[logical_id]
    assert (update.action, update.status) == ("Update", COMPLETE), update.reason
    assert len(world.states.executions()) == 1  # the same handle: the wait condition is unchanged


def test_a_long_import_rolled_back_stops_its_waiter(world: World, tmp_path: Path) -> None:
    """A create that fails elsewhere is rolled back: the long import's waiter must not poll on for hours."""
    app = App(outdir=str(tmp_path / "out"), context={"aws:cdk:enable-path-metadata": True})
    stack = Stack(app, "RecsStop", env=ENV)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "interactions.csv").write_bytes(interactions_csv(timestamp_scale=1000))
    for name, data, wait in (
        ("Slow", SAMPLE_DIR, ImportWait.up_to(Duration.hours(12))),
        ("Bad", bad, ImportWait.within_deployment()),
    ):
        schema = personalize.CfnSchema(
            stack, f"{name}Schema", name=name.lower(), schema=DatasetSchema.interactions().to_json()
        )
        group = personalize.CfnDatasetGroup(stack, f"{name}Group", name=name.lower())
        dataset = personalize.CfnDataset(
            stack,
            f"{name}Dataset",
            name=name.lower(),
            dataset_group_arn=group.attr_dataset_group_arn,
            dataset_type="Interactions",
            schema_arn=schema.attr_schema_arn,
        )
        DatasetImport(
            stack,
            name,
            dataset_arn=dataset.attr_dataset_arn,
            data=DataSource.from_asset(data),
            validate_data=False,
            wait=wait,
        )
    app.synth()
    world.emulator.job_timing = JobTiming(pending=60, running=3 * HOUR)
    emulated = EmulatedStack(tmp_path / "out", "RecsStop", world)
    assert not emulated.deploy().succeeded
    (execution,) = world.states.executions()
    assert execution.status == "RUNNING"  # the slow job's waiter polls on after the failed create
    emulated.delete()
    assert execution.status == "ABORTED"
