"""Facts only the library's own synth shows, deployed where no test of ``tests/lifecycle`` deploys them.

The stacks are synthesized by the library (no hand-written copy of what it synthesizes) and deployed
whole into the emulated region with the real handler. The emulator's models, written from AWS's
documentation, are the judge: a WaitCondition cannot be updated and evaluates every signal its handle
ever received (``cfn_wait.py``); a Step Functions execution keeps at most 25,000 history events
(``step_functions.py``); a bucket that holds objects cannot be deleted, and CDK's auto-delete resource
empties it first (``cfn_resources.py``); CloudFormation deletes in reverse dependency order
(``stack_delete.py``). Synthesized once for the module; time is virtual.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from aws_cdk import App, Duration, RemovalPolicy, Stack
from aws_cdk import aws_personalize as personalize
from botocore.exceptions import ClientError

from constructs_personalize import DatasetImport, DatasetSchema, DataSource, DataStore, ImportWait
from constructs_personalize.import_wait import MAX_WAITER_POLLS
from tests.emulator.cfn_wait import HANDLE, WAIT_CONDITION
from tests.emulator.cloudformation import EmulatedStack
from tests.emulator.deployment import Deployment
from tests.emulator.samples import interactions_csv
from tests.emulator.service import JobTiming
from tests.emulator.step_functions import HISTORY_LIMIT, SUCCEEDED, Execution
from tests.emulator.world import World
from tests.infra.helpers import ENV

pytestmark = pytest.mark.lifecycle
WAITS, DROPS = "Waits", "Drops"


def _dataset(stack: Stack, name: str) -> str:
    group = personalize.CfnDatasetGroup(stack, "Group", name=name)
    schema = personalize.CfnSchema(stack, "Schema", name=name, schema=DatasetSchema.interactions().to_json())
    dataset = personalize.CfnDataset(
        stack,
        "Dataset",
        name=name,
        dataset_group_arn=group.attr_dataset_group_arn,
        dataset_type="Interactions",
        schema_arn=schema.attr_schema_arn,
    )
    return dataset.attr_dataset_arn


def _synth(outdir: Path, data: Path, *, with_drops: bool) -> Path:
    """``Waits``: an import waiting up to 12 hours for ``data``; ``Drops``: a DESTROY store, a job not waited for."""
    app = App(outdir=str(outdir), context={"aws:cdk:enable-path-metadata": True})
    waits = Stack(app, WAITS, env=ENV)
    wait = ImportWait.up_to(Duration.hours(12))
    DatasetImport(waits, "Bulk", dataset_arn=_dataset(waits, "waits"), data=DataSource.from_asset(data), wait=wait)
    if with_drops:
        drops = Stack(app, DROPS, env=ENV)
        DatasetImport(
            drops,
            "Bulk",
            dataset_arn=_dataset(drops, "drops"),
            data=DataSource.from_asset(data),
            store=DataStore(drops, "Store", removal_policy=RemovalPolicy.DESTROY),
            wait=ImportWait.do_not_wait(),
        )
    app.synth()
    return outdir


def _folder(directory: Path, rows: int) -> Path:
    directory.mkdir(parents=True)
    (directory / "interactions.csv").write_bytes(interactions_csv(rows=rows))
    return directory


@pytest.fixture(scope="module")
def assemblies(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The first synth (both stacks), and a later one of ``Waits`` whose data changed."""
    data = tmp_path_factory.mktemp("data")
    return (
        _synth(tmp_path_factory.mktemp("v1"), _folder(data / "v1", 1000), with_drops=True),
        _synth(tmp_path_factory.mktemp("v2"), _folder(data / "v2", 1100), with_drops=False),
    )


def _failures(deployment: Deployment) -> list[tuple[str, str]]:
    return [(record.logical_id, record.reason) for record in deployment.failures]


def _history_at_most_polls(execution: Execution) -> int:
    """The history length of ``execution`` had its waiter polled ``MAX_WAITER_POLLS`` times.

    Every poll of the synthesized loop writes the same events (Wait, Task, Choice): the count between two
    polls, times the polls, plus what the execution writes once (start, end).
    """
    polls = [index for index, event in enumerate(execution.history) if event.type == "TaskStateEntered"]
    per_poll = {later - earlier for earlier, later in itertools.pairwise(polls)}
    assert len(polls) == execution.task_invocations > 2 and len(per_poll) == 1, per_poll
    (events,) = per_poll
    once = len(execution.history) - events * len(polls)
    return once + events * MAX_WAITER_POLLS


def test_a_changed_long_import_waits_for_its_new_job_on_a_new_handle(
    world: World, assemblies: tuple[Path, Path]
) -> None:
    world.emulator.job_timing = JobTiming(pending=30, running=600)
    stack = EmulatedStack(assemblies[0], WAITS, world)
    first = stack.deploy()
    assert first.succeeded, _failures(first)
    (import_id,) = stack.import_ids()
    (old_wait,), (old_handle,) = stack.spec.of_type(WAIT_CONDITION), stack.spec.of_type(HANDLE)
    old_job, old_url = first.physical_id(import_id), stack.ref(old_handle)

    update = stack.update(assemblies[1])
    assert update.succeeded, _failures(update)
    (new_wait,), (new_handle,) = stack.spec.of_type(WAIT_CONDITION), stack.spec.of_type(HANDLE)
    new_job, new_url = update.physical_id(import_id), stack.ref(new_handle)
    # A WaitCondition cannot be updated: the new job waits on a new condition and a new handle, and the
    # old ones go in the cleanup with the old job's resource.
    assert new_job != old_job and new_wait != old_wait and new_handle != old_handle
    assert (update.records[new_wait].action, update.records[new_handle].action) == ("Create", "Create")
    cleanup = {lid: record.resource_status for lid, record in update.cleanup.items()}
    assert cleanup == {old_wait: "DELETE_COMPLETE", old_handle: "DELETE_COMPLETE", import_id: "DELETE_COMPLETE"}
    # The new condition held the update until the new job ended: the old job's signal is not on its handle.
    finished = world.emulator.job_finished_at(new_job)
    assert finished is not None and update.completed_at(new_wait) >= finished
    assert [signal["Data"] for signal in world.signals(new_url)] == [new_job]
    assert [signal["Data"] for signal in world.signals(old_url)] == [old_job]

    # Step Functions' history: the synthesized waiter polled as often as ImportWait allows stays within it.
    executions = world.states.executions()
    assert len(executions) == 2 and {execution.status for execution in executions} == {SUCCEEDED}
    for execution in executions:
        assert _history_at_most_polls(execution) <= HISTORY_LIMIT


def test_a_stack_with_a_destroy_store_is_deleted_whole_while_its_job_runs(
    world: World, assemblies: tuple[Path, Path]
) -> None:
    world.emulator.job_timing = JobTiming(pending=30, running=900)
    stack = EmulatedStack(assemblies[0], DROPS, world)
    created = stack.deploy()
    assert created.succeeded, _failures(created)
    (import_id,) = stack.import_ids()
    job = created.physical_id(import_id)
    assert world.emulator.job_finished_at(job) is None  # not waited for: still running
    buckets = [stack.ref(lid) for lid in stack.spec.of_type("AWS::S3::Bucket")]
    (dataset,) = stack.spec.of_type("AWS::Personalize::Dataset")

    deleted = stack.delete()
    assert deleted.stack_status == "DELETE_COMPLETE", _failures(deleted)
    # Reverse dependency order over the synthesized graph: each resource after everything that refers to it.
    dependencies = stack.spec.dependencies()
    for logical_id, record in deleted.records.items():
        for dependent in (other for other, deps in dependencies.items() if logical_id in deps):
            assert record.started_at is not None and record.started_at >= deleted.completed_at(dependent)
    # The import's Delete, through the real handler, waited for the job; the dataset went after it.
    finished = world.emulator.job_finished_at(job)
    assert finished is not None and deleted.completed_at(import_id) >= finished
    assert deleted.records[dataset].resource_status == "DELETE_COMPLETE"
    # The store's buckets held the upload: the auto-delete resources emptied them, and they are gone.
    for bucket in buckets:
        with pytest.raises(ClientError):
            world.s3.head_bucket(Bucket=bucket)
