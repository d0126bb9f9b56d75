"""Deleting a stack while an import job is still running: the dataset cannot go before the job ends.

A job outlives its custom resource's Create when it runs longer than the handler's wait budget: the
Create fails with the job ARN as physical id (CREATE_FAILED) and the job runs on in Personalize.
Deleting the stack then sends that resource a Delete, which waits for the job (at most a wait
budget of its own) so that the dataset's delete, after it, is not refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from tests.emulator.cloudformation import EmulatedStack
from tests.emulator.deployment import FAILED, NOT_STARTED, Deployment
from tests.emulator.provider_framework import CREATE_FAILED_MARKER
from tests.emulator.samples import interactions_csv
from tests.emulator.service import JobTiming
from tests.emulator.templates import Assembly, ImportSpec, framework, import_stack
from tests.emulator.world import World

JOB = "shop-interactions-1"
ONE = {"Interactions": ImportSpec(JOB, {"data.csv": interactions_csv()}, "interactions/")}
WAIT_BUDGET = 3300.0  # ``templates.framework``'s handler wait budget


def _job_status(world: World, arn: str) -> str:
    return str(world.personalize().describe_dataset_import_job(datasetImportJobArn=arn)["datasetImportJob"]["status"])


def _outlasting_import(world: World, tmp_path: Path, running: float, **import_attributes: Any) -> EmulatedStack:
    """A stack whose import job runs ``running`` seconds: its Create fails at the wait budget, the job runs on."""
    world.emulator.set_job_timing(JOB, JobTiming(pending=30, running=running))
    assembly = Assembly(tmp_path)
    resources = import_stack(assembly, "shop", ONE)
    # The bucket is kept with its data: the job still reads it when it ends, during the stack's delete.
    resources["Data"]["DeletionPolicy"] = "Retain"
    resources["Interactions"].update(import_attributes)
    stack = EmulatedStack(assembly.write("Shop", resources), "Shop", world)
    created = stack.deploy(framework(stack))
    record = created.records["Interactions"]
    assert (record.status, created.stack_status) == (FAILED, "CREATE_FAILED")
    assert "did not become ACTIVE within the deployment's wait budget" in record.reason
    assert _job_status(world, created.physical_id("Interactions")) == "CREATE IN_PROGRESS"
    return stack


def _dataset_gone(world: World, deployment: Deployment) -> bool:
    try:
        world.personalize().describe_dataset(datasetArn=deployment.physical_id("InteractionsDataset"))
    except ClientError as error:
        return bool(error.response["Error"]["Code"] == "ResourceNotFoundException")
    return False


def test_deleting_the_import_waits_for_its_job_then_the_dataset_goes(world: World, tmp_path: Path) -> None:
    stack = _outlasting_import(world, tmp_path, running=3500)  # ends ~230 s after the Create gave up
    started = world.clock()
    deployment = stack.delete(framework(stack))
    assert deployment.succeeded, deployment.failures
    (event,) = deployment.events
    job_arn = event["PhysicalResourceId"]
    assert (event["RequestType"], job_arn.rsplit("/", 1)[-1]) == ("Delete", JOB)
    finished = world.emulator.job_finished_at(job_arn)
    assert finished is not None and finished > started
    # The handler polled on the virtual clock until the job ended; only then did the dataset's delete start.
    assert deployment.outcome("Interactions").is_complete_calls > 1
    assert deployment.completed_at("Interactions") >= finished
    assert deployment.records["InteractionsDataset"].started_at >= finished  # type: ignore[operator]
    assert _job_status(world, job_arn) == "ACTIVE" and _dataset_gone(world, deployment)


def test_a_job_outlasting_the_delete_leaves_its_dataset_undeletable_until_it_ends(world: World, tmp_path: Path) -> None:
    stack = _outlasting_import(world, tmp_path, running=9000)
    deployment = stack.delete(framework(stack))
    # The handler's Delete never fails: it gives up waiting at its budget, and the dataset's delete is refused.
    assert deployment.records["Interactions"].resource_status == "DELETE_COMPLETE"
    assert deployment.completed_at("Interactions") - deployment.started_at >= WAIT_BUDGET
    dataset = deployment.records["InteractionsDataset"]
    assert dataset.resource_status == "DELETE_FAILED"
    assert dataset.reason.startswith("ResourceInUseException:") and JOB in dataset.reason
    # What the dataset depends on stays; everything else is deleted.
    for waiting in ("InteractionsSchema", "Group"):
        record = deployment.records[waiting]
        assert record.status == NOT_STARTED and "failed to delete" in record.reason
    assert deployment.records["ImportRole"].resource_status == "DELETE_COMPLETE"
    assert deployment.stack_status == "DELETE_FAILED"
    assert deployment.stack_reason == "The following resource(s) failed to delete: [InteractionsDataset]. "
    # Once the job has ended, deleting again removes the rest.
    job_arn = deployment.events[0]["PhysicalResourceId"]
    world.clock.advance(9000)
    # Ended (here CREATE FAILED: the emulated job reads its data when it ends, after the stack deleted
    # its role's read grant; when the real service reads is not documented).
    assert _job_status(world, job_arn) not in ("CREATE PENDING", "CREATE IN_PROGRESS")
    again = stack.delete(framework(stack))
    assert again.succeeded, again.failures
    assert set(again.records) == {"InteractionsDataset", "InteractionsSchema", "Group"} and again.events == []


def test_an_import_not_deleted_first_leaves_its_dataset_undeletable(world: World, tmp_path: Path) -> None:
    # DeletionPolicy Retain on the import: CloudFormation sends it no Delete, so nothing waits for the job.
    stack = _outlasting_import(world, tmp_path, running=3500, DeletionPolicy="Retain")
    deployment = stack.delete(framework(stack))
    assert deployment.events == []
    assert deployment.records["Interactions"].resource_status == "DELETE_SKIPPED"
    dataset = deployment.records["InteractionsDataset"]
    assert dataset.resource_status == "DELETE_FAILED" and "ResourceInUseException" in dataset.reason
    assert dataset.started_at == deployment.started_at  # refused at once, while the job runs


def test_an_import_that_failed_before_starting_a_job_is_deleted_at_once(world: World, tmp_path: Path) -> None:
    assembly = Assembly(tmp_path)
    resources = import_stack(assembly, "shop", ONE)
    resources["Interactions"]["Properties"]["ImportMode"] = "SOMETIMES"  # on_event rejects it: no job
    stack = EmulatedStack(assembly.write("Shop", resources), "Shop", world)
    created = stack.deploy(framework(stack))
    assert created.physical_id("Interactions") == CREATE_FAILED_MARKER
    deployment = stack.delete(framework(stack))
    # CloudFormation still sends the failed resource a Delete; the framework answers it without the handler.
    (event,) = deployment.events
    assert (event["RequestType"], event["PhysicalResourceId"]) == ("Delete", CREATE_FAILED_MARKER)
    assert deployment.outcome("Interactions").is_complete_calls == 0
    assert deployment.completed_at("Interactions") == deployment.started_at
    assert deployment.records["InteractionsDataset"].resource_status == "DELETE_COMPLETE"
