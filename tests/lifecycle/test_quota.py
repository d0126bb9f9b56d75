"""Personalize's 5 import jobs per account and region, with every slot taken when the deploy starts.

Five jobs of another dataset, started directly through the emulated Personalize, hold every slot
for longer than a custom resource's hour. Imports with ``ImportWait.up_to`` hand the wait for a slot
to the long waiter state machine, which starts each job when a slot frees and signals its wait
condition; imports that wait within the deployment fail when their hour ends, naming the quota and
the way out. Synthesized once for the module, deployed with the real handler on a virtual clock.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Duration, Stack

from constructs_personalize import ImportWait
from tests.constants import ROLE_ARN
from tests.emulator.cloudformation import EmulatedStack
from tests.emulator.samples import interactions_csv
from tests.emulator.service import ACTIVE, MAX_JOBS_IN_FLIGHT, JobTiming
from tests.emulator.world import World
from tests.infra.helpers import ENV
from tests.lifecycle.stacks import independent_imports

pytestmark = pytest.mark.lifecycle
MINUTE, HOUR = 60, 3600
INTERVAL = 30  # DatasetImport's default query_interval
LONG, WITHIN = "QuotaLong", "QuotaWithin"
LONG_IMPORTS = 7
JOB = 40 * MINUTE
# Busy past the custom resource's hour, yet short enough for two rounds of 40-minute jobs after it
# within the 3-hour wait: 90 + 2 x 40 = 170 minutes (busy 2 hours, the last two jobs would need 200).
BUSY_FOR_LONG = 90 * MINUTE
BUSY_FOR_WITHIN = 2 * HOUR


def _stack(app: App, name: str, imports: int, wait: ImportWait) -> None:
    independent_imports(Stack(app, name, env=ENV), name.lower(), imports, wait)


@pytest.fixture(scope="module")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    outdir = tmp_path_factory.mktemp("quota")
    app = App(outdir=str(outdir), context={"aws:cdk:enable-path-metadata": True})
    _stack(app, LONG, LONG_IMPORTS, ImportWait.up_to(Duration.hours(3)))
    _stack(app, WITHIN, 1, ImportWait.within_deployment())
    app.synth()
    return outdir


def _take_every_slot(world: World, seconds: float) -> list[str]:
    """Five jobs of another dataset, each in flight for ``seconds`` from now; their ARNs."""
    world.bucket("other-team")
    other = world.interactions_dataset(group="other-team")
    location = world.put_object("other-team", "interactions/data.csv", interactions_csv())
    arns = []
    for index in range(MAX_JOBS_IN_FLIGHT):
        name = f"other-team-{index}"
        world.emulator.set_job_timing(name, JobTiming(pending=MINUTE, running=seconds - MINUTE))
        arns.append(
            world.personalize().create_dataset_import_job(
                jobName=name, datasetArn=other, dataSource={"dataLocation": location}, roleArn=ROLE_ARN
            )["datasetImportJobArn"]
        )
    return arns


def _jobs_of(world: World, stack: EmulatedStack, logical_id: str) -> list[dict[str, Any]]:
    dataset_arn = stack.import_properties(logical_id)["DatasetArn"]
    return [
        dict(job) for job in world.personalize().list_dataset_import_jobs(datasetArn=dataset_arn)["datasetImportJobs"]
    ]


def test_imports_that_wait_up_to_three_hours_take_their_turn_for_the_slots_and_all_end_active(
    world: World, assembly: Path
) -> None:
    world.emulator.job_timing = JobTiming(pending=MINUTE, running=JOB - MINUTE)
    busy = _take_every_slot(world, BUSY_FOR_LONG)
    stack = EmulatedStack(assembly, LONG, world)
    deployment = stack.deploy()

    assert deployment.succeeded, [(record.logical_id, record.reason) for record in deployment.failures]
    import_ids = stack.import_ids()
    assert len(import_ids) == LONG_IMPORTS
    slots_free_at = max(world.emulator.job_finished_at(arn) or 0.0 for arn in busy)
    created = []
    for logical_id in import_ids:
        (job,) = _jobs_of(world, stack, logical_id)  # each dataset holds its import's one job
        assert job["status"] == ACTIVE and job["datasetImportJobArn"] == deployment.physical_id(logical_id)
        created.append(job["creationDateTime"].timestamp())
        # The custom resource handed the wait for a slot to the waiter instead of spending its hour on it.
        assert deployment.completed_at(logical_id) - deployment.started_at < HOUR
    assert min(created) >= slots_free_at
    # Two rounds of 40-minute jobs once the slots free up, each noticed within a query interval.
    assert slots_free_at - deployment.started_at == pytest.approx(BUSY_FOR_LONG)
    assert deployment.finished_at - deployment.started_at <= BUSY_FOR_LONG + 2 * (JOB + INTERVAL)
    conditions = stack.spec.of_type("AWS::CloudFormation::WaitCondition")
    assert len(conditions) == LONG_IMPORTS
    for logical_id in import_ids:
        (signal,) = world.signals(stack.import_properties(logical_id)["WaitHandle"])
        assert signal["Status"] == "SUCCESS" and signal["Data"] == deployment.physical_id(logical_id)


def test_an_import_that_waits_within_the_deployment_fails_at_the_end_of_its_hour_naming_the_quota(
    world: World, assembly: Path
) -> None:
    _take_every_slot(world, BUSY_FOR_WITHIN)
    stack = EmulatedStack(assembly, WITHIN, world)
    deployment = stack.deploy()

    assert not deployment.succeeded
    (failure,) = deployment.failures
    (logical_id,) = stack.import_ids()
    assert failure.logical_id == logical_id
    assert "5 import jobs per account and region" in failure.reason
    assert "ImportWait.up_to" in failure.reason
    assert failure.completed_at is not None
    assert HOUR - 3 * INTERVAL <= failure.completed_at - deployment.started_at <= HOUR
    assert _jobs_of(world, stack, logical_id) == []  # it never got a slot
