"""The emulator behaves like Personalize where the handler depends on it; checked through boto3."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.constants import ROLE_ARN
from tests.emulator.samples import HEADER, interactions_csv, with_line
from tests.emulator.service import MAX_JOBS_IN_FLIGHT, JobTiming, ServiceError
from tests.emulator.world import INTERACTIONS_SCHEMA, World

BUCKET = "training-data"


def _create_job(world: World, name: str, dataset_arn: str, location: str, **extra: Any) -> str:
    response = world.personalize().create_dataset_import_job(
        jobName=name, datasetArn=dataset_arn, dataSource={"dataLocation": location}, roleArn=ROLE_ARN, **extra
    )
    return response["datasetImportJobArn"]


def _job(world: World, arn: str) -> dict[str, Any]:
    return dict(world.personalize().describe_dataset_import_job(datasetImportJobArn=arn)["datasetImportJob"])


def _error(call: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call()
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


@pytest.fixture
def dataset(world: World) -> str:
    world.bucket(BUCKET)
    return world.interactions_dataset()


def _run(
    world: World, dataset: str, body: bytes, key: str = "interactions/data.csv", name: str = "job"
) -> dict[str, Any]:
    location = world.put_object(BUCKET, key, body)
    arn = _create_job(world, name, dataset, location)
    world.clock.advance(world.emulator.job_timing.pending + world.emulator.job_timing.running)
    return _job(world, arn)


def test_status_flow_on_the_virtual_clock(world: World, dataset: str) -> None:
    location = world.put_object(BUCKET, "interactions/data.csv", interactions_csv())
    arn = _create_job(world, "flow", dataset, location)
    timing = world.emulator.job_timing
    seen = [_job(world, arn)["status"]]
    world.clock.advance(timing.pending)
    seen.append(_job(world, arn)["status"])
    world.clock.advance(timing.running - 1)
    seen.append(_job(world, arn)["status"])
    world.clock.advance(1)
    seen.append(_job(world, arn)["status"])
    assert seen == ["CREATE PENDING", "CREATE IN_PROGRESS", "CREATE IN_PROGRESS", "ACTIVE"]
    assert world.emulator.job_finished_at(arn) == world.clock()


@pytest.mark.parametrize(
    ("params", "constraint"),
    [
        (
            {"jobName": "x" * 64},
            "at 'jobName' failed to satisfy constraint: Member must have length less than or equal to 63",
        ),
        (
            {"jobName": "-starts-with-dash"},
            "at 'jobName' failed to satisfy constraint: Member must satisfy regular expression",
        ),
        ({"importMode": "REPLACE"}, "at 'importMode' failed to satisfy constraint: Member must satisfy enum value set"),
        ({"roleArn": "arn:aws:iam::12345:role/short-account"}, "at 'roleArn' failed to satisfy constraint"),
        ({"dataSource": {"dataLocation": "s3://" + "b" * 252}}, "at 'dataSource.dataLocation' failed to satisfy"),
        (
            {"dataSource": {"dataLocation": "ftp://bucket/key"}},
            "Member must satisfy regular expression pattern: (s3|http|https)://.+",
        ),
        ({"tags": [{"tagKey": "bad<key>", "tagValue": "v"}]}, "at 'tags.1.member.tagKey' failed to satisfy"),
        (
            {"tags": [{"tagKey": f"k{i}", "tagValue": "v"} for i in range(201)]},
            "at 'tags' failed to satisfy constraint",
        ),
    ],
)
def test_checks_what_botocore_does_not(world: World, dataset: str, params: dict[str, Any], constraint: str) -> None:
    # botocore's client lets every one of these through (it checks no max length, pattern or enum).
    arguments: dict[str, Any] = {
        "jobName": "valid-name",
        "datasetArn": dataset,
        "dataSource": {"dataLocation": f"s3://{BUCKET}/interactions/"},
        "roleArn": ROLE_ARN,
        **params,
    }
    code, message = _error(lambda: world.personalize().create_dataset_import_job(**arguments))
    assert code == "InvalidInputException"
    assert "validation error" in message and constraint in message


def test_raw_requests_are_checked_for_types_and_required_members(world: World) -> None:
    with pytest.raises(ServiceError) as caught:
        world.emulator.handle("CreateDatasetImportJob", {"jobName": 7, "datasetArn": "arn:aws:personalize:x:y:z"})
    assert caught.value.code == "InvalidInputException"
    assert "'jobName' failed to satisfy constraint: Member must be a string" in str(caught.value)
    assert "Value null at 'dataSource'" in str(caught.value)


def test_job_names_are_taken_for_good(world: World, dataset: str) -> None:
    job = _run(world, dataset, interactions_csv(), name="once")
    assert job["status"] == "ACTIVE"
    code, _ = _error(lambda: _create_job(world, "once", dataset, job["dataSource"]["dataLocation"]))
    assert code == "ResourceAlreadyExistsException"


def test_at_most_five_jobs_in_flight(world: World, dataset: str) -> None:
    location = world.put_object(BUCKET, "interactions/data.csv", interactions_csv())
    for index in range(MAX_JOBS_IN_FLIGHT):
        _create_job(world, f"job-{index}", dataset, location)
    code, message = _error(lambda: _create_job(world, "job-6", dataset, location))
    assert code == "LimitExceededException"
    assert "More than 5 resources with PENDING or IN_PROGRESS status" in message
    world.clock.advance(world.emulator.job_timing.pending + world.emulator.job_timing.running)
    assert _create_job(world, "job-6", dataset, location).endswith("/job-6")


def test_dataset_not_active_yet_is_in_use(world: World, dataset: str) -> None:
    world.emulator.hold_dataset(dataset, 120)
    location = world.put_object(BUCKET, "interactions/data.csv", interactions_csv())
    status = world.personalize().describe_dataset(datasetArn=dataset)["dataset"]["status"]
    code, _ = _error(lambda: _create_job(world, "early", dataset, location))
    world.clock.advance(120)
    assert (status, code) == ("CREATE PENDING", "ResourceInUseException")
    assert _create_job(world, "early", dataset, location).endswith("/early")


def test_unknown_arns_are_not_found(world: World, dataset: str) -> None:
    missing_job = dataset.replace(":dataset/shop/INTERACTIONS", ":dataset-import-job/nope")
    assert _error(lambda: _job(world, missing_job))[0] == "ResourceNotFoundException"
    other_dataset = dataset.replace("/shop/", "/other/")
    code, _ = _error(lambda: _create_job(world, "j", other_dataset, f"s3://{BUCKET}/x.csv"))
    assert code == "ResourceNotFoundException"


def test_dataset_group_must_be_active_and_names_unique(world: World) -> None:
    world.emulator.dataset_group_seconds = 60
    client = world.personalize()
    group = client.create_dataset_group(name="slow")["datasetGroupArn"]
    schema = client.create_schema(name="slow-schema", schema=INTERACTIONS_SCHEMA)["schemaArn"]

    def create() -> dict[str, Any]:
        response = client.create_dataset(name="d", schemaArn=schema, datasetGroupArn=group, datasetType="Interactions")
        return dict(response)

    assert _error(create)[0] == "ResourceInUseException"
    assert _error(lambda: client.create_dataset_group(name="slow"))[0] == "ResourceAlreadyExistsException"
    world.clock.advance(60)
    assert client.describe_dataset_group(datasetGroupArn=group)["datasetGroup"]["status"] == "ACTIVE"
    assert create()["datasetArn"].endswith(":dataset/slow/INTERACTIONS")
    assert _error(lambda: client.create_schema(name="bad", schema="{not json"))[0] == "InvalidInputException"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (interactions_csv(header="USER_ID,ITEM_ID,TIMESTAMP"), "is missing the following columns: ['EVENT_TYPE']"),
        (interactions_csv(header=HEADER + ",COLOR"), "has columns that are not in the schema: ['COLOR']"),
        (
            with_line(interactions_csv(), 7, "user-1,item-1,yesterday,click"),
            "line 7 column TIMESTAMP is not a valid long",
        ),
        (interactions_csv(timestamp_scale=1000), "line 2 column TIMESTAMP is out of range"),
        (with_line(interactions_csv(), 3, "user-1,item-1,1700000000"), "line 3: expected 4 columns, found 3"),
        (with_line(interactions_csv(), 4, ",item-1,1700000000,click"), "Required value missing in"),
        (interactions_csv(rows=999), "Number of interactions imported (999) is less than the minimum required (1000)"),
        (b"USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE\n\xff\xfe,x,1,click\n", "is not UTF-8 encoded"),
    ],
)
def test_bad_data_fails_the_job(world: World, dataset: str, body: bytes, reason: str) -> None:
    job = _run(world, dataset, body)
    assert job["status"] == "CREATE FAILED"
    assert reason in job["failureReason"]
    assert f"s3://{BUCKET}/interactions" in job["failureReason"]


def test_millisecond_timestamps_are_named_as_such(world: World, dataset: str) -> None:
    job = _run(world, dataset, interactions_csv(timestamp_scale=1000))
    assert "seconds (this value looks like milliseconds)" in job["failureReason"]


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        (f"s3://{BUCKET}/nothing-here/", f"No CSV files found at s3://{BUCKET}/nothing-here/"),
        (f"s3://{BUCKET}/missing.csv", f"Input path s3://{BUCKET}/missing.csv does not exist"),
        ("s3://no-such-bucket/data/", "Input bucket for s3://no-such-bucket/data/ does not exist"),
        ("https://example.com/data.csv", "imports only from s3:// locations"),
    ],
)
def test_missing_data_fails_the_job(world: World, dataset: str, location: str, reason: str) -> None:
    arn = _create_job(world, "missing", dataset, location)
    world.clock.advance(world.emulator.job_timing.pending + world.emulator.job_timing.running)
    job = _job(world, arn)
    assert (job["status"], reason in job["failureReason"]) == ("CREATE FAILED", True), job["failureReason"]


def test_a_folder_imports_every_csv_under_it(world: World, dataset: str) -> None:
    world.put_object(BUCKET, "interactions/part-1.csv", interactions_csv(rows=600))
    world.put_object(BUCKET, "interactions/part-2.csv", interactions_csv(rows=600))
    world.put_object(BUCKET, "interactions/README.txt", b"not data")
    arn = _create_job(world, "folder", dataset, f"s3://{BUCKET}/interactions/")
    world.clock.advance(world.emulator.job_timing.pending + world.emulator.job_timing.running)
    assert _job(world, arn)["status"] == "ACTIVE"  # 1,200 rows in two files pass the 1,000 minimum


def test_throttling_bursts_and_injected_errors(world: World, dataset: str) -> None:
    client = world.personalize()
    world.emulator.throttle(2, operations={"DescribeDataset"})
    before = world.clock()
    # Two throttled attempts, then success: boto3 retried, and its back-off slept on the virtual clock.
    assert client.describe_dataset(datasetArn=dataset)["dataset"]["status"] == "ACTIVE"
    assert world.clock() > before
    assert world.emulator.count("DescribeDataset") == 3
    world.emulator.fail_next("InternalFailure", "boom", operations={"DescribeDatasetGroup"})
    code, _ = _error(lambda: client.describe_schema(schemaArn="arn:aws:personalize:eu-west-1:1:schema/none"))
    assert code == "ResourceNotFoundException"  # the injected fault waits for its own operation
    group = dataset.replace(":dataset/shop/INTERACTIONS", ":dataset-group/shop")
    assert _error(lambda: client.describe_dataset_group(datasetGroupArn=group)) == ("InternalFailure", "boom")
    assert client.describe_dataset_group(datasetGroupArn=group)["datasetGroup"]["status"] == "ACTIVE"


def test_slow_jobs_take_their_own_time(world: World, dataset: str) -> None:
    world.emulator.set_job_timing("slow", JobTiming(pending=10, running=3000))
    location = world.put_object(BUCKET, "interactions/data.csv", interactions_csv())
    arn = _create_job(world, "slow", dataset, location)
    world.clock.advance(10 + 2999)
    assert _job(world, arn)["status"] == "CREATE IN_PROGRESS"
    world.clock.advance(1)
    assert _job(world, arn)["status"] == "ACTIVE"


def test_list_import_jobs_pages_and_filters(world: World, dataset: str) -> None:
    location = world.put_object(BUCKET, "interactions/data.csv", interactions_csv())
    for index in range(3):
        _create_job(world, f"listed-{index}", dataset, location)
    paginator = world.personalize().get_paginator("list_dataset_import_jobs")
    pages = list(paginator.paginate(datasetArn=dataset, PaginationConfig={"PageSize": 2}))
    names = [job["jobName"] for page in pages for job in page["datasetImportJobs"]]
    assert (len(pages), names) == (2, ["listed-0", "listed-1", "listed-2"])
    other = dataset.replace("/shop/", "/other/")
    assert world.personalize().list_dataset_import_jobs(datasetArn=other)["datasetImportJobs"] == []


def test_unknown_operation_is_rejected(world: World) -> None:
    with pytest.raises(ServiceError) as caught:
        world.emulator.handle("DeleteDatasetImportJob", {})
    assert caught.value.code == "UnknownOperationException"
