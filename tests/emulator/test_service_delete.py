"""Deleting Personalize resources: what is refused while in use, what frees a name, what is kept for good."""

from __future__ import annotations

from typing import Any, Literal

import pytest
from botocore.exceptions import ClientError

from tests.constants import ROLE_ARN
from tests.emulator.samples import interactions_csv
from tests.emulator.world import INTERACTIONS_SCHEMA, World

BUCKET = "training-data"


def _error(call: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call()
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


def _job(world: World, arn: str) -> dict[str, Any]:
    return dict(world.personalize().describe_dataset_import_job(datasetImportJobArn=arn)["datasetImportJob"])


def _start_job(world: World, dataset_arn: str, name: str, mode: Literal["FULL", "INCREMENTAL"] = "FULL") -> str:
    location = world.put_object(BUCKET, "interactions/data.csv", interactions_csv())
    return world.personalize().create_dataset_import_job(
        jobName=name, datasetArn=dataset_arn, dataSource={"dataLocation": location}, roleArn=ROLE_ARN, importMode=mode
    )["datasetImportJobArn"]


def _arns(world: World, dataset_arn: str) -> tuple[str, str]:
    """(group ARN, schema ARN) of a dataset."""
    dataset = world.personalize().describe_dataset(datasetArn=dataset_arn)["dataset"]
    return dataset["datasetGroupArn"], dataset["schemaArn"]


def _delete_all(world: World, dataset_arn: str) -> None:
    client = world.personalize()
    group_arn, schema_arn = _arns(world, dataset_arn)
    client.delete_dataset(datasetArn=dataset_arn)
    client.delete_schema(schemaArn=schema_arn)
    client.delete_dataset_group(datasetGroupArn=group_arn)


@pytest.fixture
def dataset(world: World) -> str:
    world.bucket(BUCKET)
    return world.interactions_dataset()


def test_a_dataset_cannot_be_deleted_while_an_import_is_pending_or_in_progress(world: World, dataset: str) -> None:
    client, timing = world.personalize(), world.emulator.job_timing
    job_arn = _start_job(world, dataset, "first")
    for status, wait in (("CREATE PENDING", timing.pending), ("CREATE IN_PROGRESS", timing.running - 1)):
        assert _job(world, job_arn)["status"] == status
        code, message = _error(lambda: client.delete_dataset(datasetArn=dataset))
        assert code == "ResourceInUseException" and "first" in message
        world.clock.advance(wait)
    world.clock.advance(1)
    before = _job(world, job_arn)
    assert before["status"] == "ACTIVE"
    client.delete_dataset(datasetArn=dataset)
    assert _error(lambda: client.describe_dataset(datasetArn=dataset))[0] == "ResourceNotFoundException"
    # A job is never deleted: it describes as before, naming the dataset that is gone.
    assert _job(world, job_arn) == before


def test_a_schema_or_group_in_use_cannot_be_deleted(world: World, dataset: str) -> None:
    client = world.personalize()
    group_arn, schema_arn = _arns(world, dataset)
    code, message = _error(lambda: client.delete_schema(schemaArn=schema_arn))
    assert code == "ResourceInUseException" and dataset in message
    code, message = _error(lambda: client.delete_dataset_group(datasetGroupArn=group_arn))
    assert code == "ResourceInUseException" and dataset in message
    client.delete_dataset(datasetArn=dataset)
    client.delete_schema(schemaArn=schema_arn)
    client.delete_dataset_group(datasetGroupArn=group_arn)
    for call in (
        lambda: client.describe_schema(schemaArn=schema_arn),
        lambda: client.describe_dataset_group(datasetGroupArn=group_arn),
        lambda: client.delete_dataset_group(datasetGroupArn=group_arn),
    ):
        assert _error(call)[0] == "ResourceNotFoundException"


def test_deleting_frees_the_names_and_the_new_dataset_starts_empty(world: World, dataset: str) -> None:
    client = world.personalize()
    group_arn, _ = _arns(world, dataset)
    client.tag_resource(resourceArn=group_arn, tags=[{"tagKey": "team", "tagValue": "ml"}])
    _start_job(world, dataset, "bulk")
    world.clock.advance(world.emulator.job_timing.pending + world.emulator.job_timing.running)
    _delete_all(world, dataset)
    again = world.interactions_dataset()  # the same group, schema and dataset names
    assert again == dataset and _arns(world, again)[0] == group_arn
    assert client.list_tags_for_resource(resourceArn=group_arn)["tags"] == []
    # The old dataset's ACTIVE FULL import does not count for the new one: it has no bulk data.
    code, message = _error(lambda: _start_job(world, again, "more", mode="INCREMENTAL"))
    assert code == "InvalidInputException" and "no bulk data" in message


def test_import_job_names_stay_taken_after_everything_is_deleted(world: World, dataset: str) -> None:
    job_arn = _start_job(world, dataset, "taken")
    world.clock.advance(world.emulator.job_timing.pending + world.emulator.job_timing.running)
    before = _job(world, job_arn)
    _delete_all(world, dataset)
    again = world.interactions_dataset()
    code, _ = _error(lambda: _start_job(world, again, "taken"))
    assert code == "ResourceAlreadyExistsException"
    assert _job(world, job_arn) == before
    listed = world.personalize().list_dataset_import_jobs()["datasetImportJobs"]
    assert [job["jobName"] for job in listed] == ["taken"]


def test_a_deleted_dataset_is_delete_pending_until_it_is_gone(world: World, dataset: str) -> None:
    world.emulator.delete_seconds = 60
    client = world.personalize()
    group_arn, schema_arn = _arns(world, dataset)
    client.delete_dataset(datasetArn=dataset)
    deleting = client.describe_dataset(datasetArn=dataset)["dataset"]
    assert deleting["status"] == "DELETE PENDING"
    # Still there: it holds its name, its group and its schema, and takes no imports.
    assert _error(lambda: client.delete_dataset(datasetArn=dataset))[0] == "ResourceInUseException"
    assert _error(lambda: client.delete_dataset_group(datasetGroupArn=group_arn))[0] == "ResourceInUseException"
    assert _error(lambda: client.delete_schema(schemaArn=schema_arn))[0] == "ResourceInUseException"
    create_again = client.create_dataset
    code, _ = _error(
        lambda: create_again(
            name="shop-interactions", schemaArn=schema_arn, datasetGroupArn=group_arn, datasetType="Interactions"
        )
    )
    assert code == "ResourceAlreadyExistsException"
    assert _error(lambda: _start_job(world, dataset, "late"))[0] == "ResourceInUseException"
    world.clock.advance(60)
    assert _error(lambda: client.describe_dataset(datasetArn=dataset))[0] == "ResourceNotFoundException"
    client.delete_dataset_group(datasetGroupArn=group_arn)
    assert client.describe_dataset_group(datasetGroupArn=group_arn)["datasetGroup"]["status"] == "DELETE PENDING"
    client.delete_schema(schemaArn=schema_arn)  # a schema has no status: it goes at once
    world.clock.advance(60)
    assert _error(lambda: client.describe_dataset_group(datasetGroupArn=group_arn))[0] == "ResourceNotFoundException"


def test_delete_requests_are_checked_against_the_model(world: World) -> None:
    client = world.personalize()
    code, message = _error(lambda: client.delete_dataset(datasetArn="not-an-arn"))
    assert code == "InvalidInputException" and "datasetArn" in message
    code, _ = _error(lambda: client.delete_schema(schemaArn="arn:aws:personalize:eu-west-1:123456789012:schema/none"))
    assert code == "ResourceNotFoundException"
    schema_arn = client.create_schema(name="unused", schema=INTERACTIONS_SCHEMA)["schemaArn"]
    client.delete_schema(schemaArn=schema_arn)
    assert client.create_schema(name="unused", schema=INTERACTIONS_SCHEMA)["schemaArn"] == schema_arn
