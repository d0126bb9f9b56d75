"""Import modes, the folder rule and tags, as Personalize applies them; checked through boto3."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError

from tests.constants import ROLE_ARN
from tests.emulator.samples import interactions_csv
from tests.emulator.tagging import MAX_TAGS_PER_RESOURCE
from tests.emulator.world import World

if TYPE_CHECKING:
    from mypy_boto3_personalize.type_defs import TagTypeDef

BUCKET = "training-data"


@pytest.fixture
def dataset(world: World) -> str:
    world.bucket(BUCKET)
    return world.interactions_dataset()


def _create(world: World, name: str, dataset: str, location: str, **extra: Any) -> str:
    response = world.personalize().create_dataset_import_job(
        jobName=name, datasetArn=dataset, dataSource={"dataLocation": location}, roleArn=ROLE_ARN, **extra
    )
    return response["datasetImportJobArn"]


def _finish(world: World) -> None:
    world.clock.advance(world.emulator.job_timing.pending + world.emulator.job_timing.running)


def _job(world: World, arn: str) -> dict[str, Any]:
    return dict(world.personalize().describe_dataset_import_job(datasetImportJobArn=arn)["datasetImportJob"])


def _error(call: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call()
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


# -- import modes ------------------------------------------------------------------------------------
def test_incremental_needs_an_active_bulk_import_first(world: World, dataset: str) -> None:
    location = world.put_object(BUCKET, "interactions/data.csv", interactions_csv())
    code, message = _error(lambda: _create(world, "early", dataset, location, importMode="INCREMENTAL"))
    assert code == "InvalidInputException"
    assert "INCREMENTAL" in message and "requires a previous bulk (FULL) import" in message and dataset in message
    bulk = _create(world, "bulk", dataset, location)  # no importMode: FULL, the default
    assert _job(world, bulk)["importMode"] == "FULL"
    # Still running: the dataset has no bulk data yet.
    assert _error(lambda: _create(world, "too-soon", dataset, location, importMode="INCREMENTAL"))[0] == (
        "InvalidInputException"
    )
    _finish(world)
    assert _job(world, bulk)["status"] == "ACTIVE"
    later = _create(world, "later", dataset, location, importMode="INCREMENTAL")
    assert _job(world, later)["importMode"] == "INCREMENTAL"


def test_a_failed_bulk_import_does_not_count(world: World, dataset: str) -> None:
    bad = world.put_object(BUCKET, "bad/data.csv", interactions_csv(rows=10))  # under the 1,000 minimum
    arn = _create(world, "bad-bulk", dataset, bad)
    _finish(world)
    assert _job(world, arn)["status"] == "CREATE FAILED"
    code, _ = _error(lambda: _create(world, "inc", dataset, bad, importMode="INCREMENTAL"))
    assert code == "InvalidInputException"


def test_bulk_import_of_another_dataset_does_not_count(world: World, dataset: str) -> None:
    other = world.interactions_dataset(group="other")
    location = world.put_object(BUCKET, "interactions/data.csv", interactions_csv())
    world.bulk_import(other, location)
    code, _ = _error(lambda: _create(world, "inc", dataset, location, importMode="INCREMENTAL"))
    assert code == "InvalidInputException"
    world.bulk_import(dataset, location)
    assert _create(world, "inc", dataset, location, importMode="INCREMENTAL").endswith("/inc")


# -- the folder rule -----------------------------------------------------------------------------------
def test_a_folder_imports_only_its_first_level(world: World, dataset: str) -> None:
    world.put_object(BUCKET, "interactions/part-1.csv", interactions_csv(rows=1000))
    # Invalid data one level down: imported, it would fail the job; Personalize ignores it.
    world.put_object(BUCKET, "interactions/archive/old.csv", b"not,the,schema\n1,2,3\n")
    arn = _create(world, "first-level", dataset, f"s3://{BUCKET}/interactions/")
    _finish(world)
    assert _job(world, arn)["status"] == "ACTIVE"


def test_rows_in_subfolders_do_not_count(world: World, dataset: str) -> None:
    world.put_object(BUCKET, "interactions/part-1.csv", interactions_csv(rows=600))
    world.put_object(BUCKET, "interactions/more/part-2.csv", interactions_csv(rows=600))
    arn = _create(world, "subfolder", dataset, f"s3://{BUCKET}/interactions/")
    _finish(world)
    job = _job(world, arn)
    assert job["status"] == "CREATE FAILED"
    assert "Number of interactions imported (600)" in job["failureReason"]


def test_a_folder_with_csv_files_only_in_subfolders_has_none(world: World, dataset: str) -> None:
    world.put_object(BUCKET, "nested/2024/data.csv", interactions_csv())
    arn = _create(world, "nested", dataset, f"s3://{BUCKET}/nested/")
    _finish(world)
    assert f"No CSV files found at s3://{BUCKET}/nested/" in _job(world, arn)["failureReason"]


# -- tags ---------------------------------------------------------------------------------------------
def test_tags_given_at_creation_are_listed_and_can_change(world: World, dataset: str) -> None:
    client = world.personalize()
    location = world.put_object(BUCKET, "interactions/data.csv", interactions_csv())
    tags = [{"tagKey": "project", "tagValue": "shop"}, {"tagKey": "owner", "tagValue": "data"}]
    arn = _create(world, "tagged", dataset, location, tags=tags, publishAttributionMetricsToS3=False)
    assert client.list_tags_for_resource(resourceArn=arn)["tags"] == tags
    client.tag_resource(
        resourceArn=arn, tags=[{"tagKey": "owner", "tagValue": "ml"}, {"tagKey": "env", "tagValue": "t"}]
    )
    client.untag_resource(resourceArn=arn, tagKeys=["project", "never-set"])
    listed = {tag["tagKey"]: tag["tagValue"] for tag in client.list_tags_for_resource(resourceArn=arn)["tags"]}
    assert listed == {"owner": "ml", "env": "t"}
    assert _job(world, arn)["publishAttributionMetricsToS3"] is False
    assert world.emulator.count("TagResource") == 1 and world.emulator.calls_for("UntagResource", arn) == 1


def test_a_job_without_tags_lists_none(world: World, dataset: str) -> None:
    arn = _create(world, "plain", dataset, world.put_object(BUCKET, "i/data.csv", interactions_csv()))
    assert world.personalize().list_tags_for_resource(resourceArn=arn)["tags"] == []
    assert "publishAttributionMetricsToS3" not in _job(world, arn)


def test_tag_operations_on_unknown_resources_are_not_found(world: World, dataset: str) -> None:
    client = world.personalize()
    missing = dataset.replace(":dataset/shop/INTERACTIONS", ":dataset-import-job/nope")
    tags: list[TagTypeDef] = [{"tagKey": "a", "tagValue": "b"}]
    assert _error(lambda: client.list_tags_for_resource(resourceArn=missing))[0] == "ResourceNotFoundException"
    assert _error(lambda: client.tag_resource(resourceArn=missing, tags=tags))[0] == "ResourceNotFoundException"
    assert _error(lambda: client.untag_resource(resourceArn=missing, tagKeys=["a"]))[0] == "ResourceNotFoundException"


def test_tag_inputs_are_checked_against_the_model(world: World, dataset: str) -> None:
    client = world.personalize()
    arn = _create(world, "checked", dataset, world.put_object(BUCKET, "i/data.csv", interactions_csv()))
    code, message = _error(lambda: client.tag_resource(resourceArn=arn, tags=[{"tagKey": "bad<key>", "tagValue": "v"}]))
    assert code == "InvalidInputException" and "at 'tags.1.member.tagKey' failed to satisfy" in message
    code, message = _error(lambda: client.list_tags_for_resource(resourceArn="not-an-arn"))
    assert code == "InvalidInputException" and "at 'resourceArn'" in message


def test_at_most_fifty_tags_per_resource(world: World, dataset: str) -> None:
    client = world.personalize()
    location = world.put_object(BUCKET, "i/data.csv", interactions_csv())
    too_many = [{"tagKey": f"k{i}", "tagValue": "v"} for i in range(MAX_TAGS_PER_RESOURCE + 1)]
    assert _error(lambda: _create(world, "crowded", dataset, location, tags=too_many))[0] == "TooManyTagsException"
    arn = _create(world, "full", dataset, location, tags=too_many[:MAX_TAGS_PER_RESOURCE])
    more: list[TagTypeDef] = [{"tagKey": "one-more", "tagValue": "v"}]
    assert _error(lambda: client.tag_resource(resourceArn=arn, tags=more))[0] == "TooManyTagsException"
    client.tag_resource(resourceArn=arn, tags=[{"tagKey": "k0", "tagValue": "replaced"}])  # same key: no new tag
