"""An import job reads S3 only as its role, the bucket policy and the bucket's KMS key policy allow."""

from __future__ import annotations

from typing import Any

import pytest

from tests.constants import ROLE_ARN
from tests.emulator.access import AWS_MANAGED_S3_KEY, DENIED_PREFIX, KEY_ACTIONS, key_policy, read_policy
from tests.emulator.samples import interactions_csv
from tests.emulator.world import World

BUCKET = "locked-data"


@pytest.fixture
def dataset(world: World) -> str:
    world.bucket(BUCKET, permissive=False)
    world.put_object(BUCKET, "team-a/data.csv", interactions_csv())
    world.put_object(BUCKET, "team-b/data.csv", interactions_csv())
    return world.interactions_dataset()


def _import(world: World, dataset: str, location: str, role_arn: str | None) -> dict[str, Any]:
    client = world.personalize()
    arguments: dict[str, Any] = {"roleArn": role_arn} if role_arn else {}
    name = f"job-{world.emulator.count('CreateDatasetImportJob')}"
    arn = client.create_dataset_import_job(
        jobName=name, datasetArn=dataset, dataSource={"dataLocation": location}, **arguments
    )["datasetImportJobArn"]
    world.clock.advance(world.emulator.job_timing.pending + world.emulator.job_timing.running)
    return dict(client.describe_dataset_import_job(datasetImportJobArn=arn)["datasetImportJob"])


def _statement(action: str, resource: str, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def _doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


SERVICE_NAME = "personalize.amazonaws.com"
SERVICE = {"Service": SERVICE_NAME}
OBJECTS, WHOLE = f"arn:aws:s3:::{BUCKET}/*", f"arn:aws:s3:::{BUCKET}"


def _denied(job: dict[str, Any], location: str, *details: str) -> None:
    assert job["status"] == "CREATE FAILED"
    reason = job["failureReason"]
    assert reason.startswith(f"{DENIED_PREFIX} at {location}"), reason
    for detail in details:
        assert detail in reason, reason


def test_exact_grants_on_both_sides_read_a_folder(world: World, dataset: str) -> None:
    world.access.put_bucket_policy(BUCKET, read_policy(BUCKET, "team-a/", service=True))
    role = world.role("reader", read_policy(BUCKET, "team-a/"))
    assert _import(world, dataset, f"s3://{BUCKET}/team-a/", role)["status"] == "ACTIVE"


@pytest.mark.parametrize(
    ("role_statements", "bucket_statements", "detail"),
    [
        ([], None, "the role arn:aws:iam::123456789012:role/reader is not allowed s3:ListBucket"),
        ([_statement("s3:ListBucket", WHOLE)], None, "not allowed s3:GetObject on arn:aws:s3:::locked-data/team-a/"),
        ([_statement("s3:GetObject", OBJECTS)], None, "not allowed s3:ListBucket on arn:aws:s3:::locked-data"),
        (None, [], "the bucket policy of locked-data does not allow personalize.amazonaws.com s3:ListBucket"),
        (
            None,
            [_statement("s3:GetObject", OBJECTS, Principal=SERVICE)],
            "does not allow personalize.amazonaws.com s3:ListBucket",
        ),
        (
            None,
            [_statement("s3:ListBucket", WHOLE, Principal=SERVICE)],
            "does not allow personalize.amazonaws.com s3:GetObject",
        ),
        # A grant to the role in the bucket policy is not a grant to the service.
        (
            None,
            [_statement("s3:*", "*", Principal={"AWS": "arn:aws:iam::123456789012:role/reader"})],
            "does not allow personalize.amazonaws.com",
        ),
    ],
)
def test_each_missing_grant_fails_the_job(
    world: World, dataset: str, role_statements: list[Any] | None, bucket_statements: list[Any] | None, detail: str
) -> None:
    full_role, full_bucket = read_policy(BUCKET), read_policy(BUCKET, service=True)
    role = world.role("reader", full_role if role_statements is None else _doc(*role_statements))
    if bucket_statements is None:
        world.access.put_bucket_policy(BUCKET, full_bucket)
    elif bucket_statements:
        world.access.put_bucket_policy(BUCKET, _doc(*bucket_statements))  # [] : no bucket policy at all
    _denied(_import(world, dataset, f"s3://{BUCKET}/team-a/", role), f"s3://{BUCKET}/team-a/", detail)


def test_a_prefix_scoped_grant_reads_its_own_prefix_only(world: World, dataset: str) -> None:
    world.access.put_bucket_policy(BUCKET, read_policy(BUCKET, service=True))
    role = world.role("team-a", read_policy(BUCKET, "team-a/"))
    assert _import(world, dataset, f"s3://{BUCKET}/team-a/", role)["status"] == "ACTIVE"
    other = _import(world, dataset, f"s3://{BUCKET}/team-b/", role)
    _denied(other, f"s3://{BUCKET}/team-b/data.csv", "not allowed s3:GetObject on arn:aws:s3:::locked-data/team-b/")


def test_list_permission_limited_to_the_folder_by_s3_prefix(world: World, dataset: str) -> None:
    world.access.put_bucket_policy(BUCKET, read_policy(BUCKET, service=True))
    listing = _statement("s3:ListBucket", WHOLE, Condition={"StringLike": {"s3:prefix": "team-a/*"}})
    role = world.role("scoped", _doc(_statement("s3:GetObject", OBJECTS), listing))
    assert _import(world, dataset, f"s3://{BUCKET}/team-a/", role)["status"] == "ACTIVE"
    _denied(_import(world, dataset, f"s3://{BUCKET}/team-b/", role), f"s3://{BUCKET}/team-b/", "s3:ListBucket")


def test_a_single_file_needs_no_list_permission(world: World, dataset: str) -> None:
    get_only = _doc(_statement("s3:GetObject", OBJECTS))
    world.access.put_bucket_policy(BUCKET, _doc(_statement("s3:GetObject", OBJECTS, Principal=SERVICE)))
    role = world.role("getter", get_only)
    assert _import(world, dataset, f"s3://{BUCKET}/team-a/data.csv", role)["status"] == "ACTIVE"
    # A missing object without ListBucket is S3's 403, not 404: access denied, not "does not exist".
    _denied(_import(world, dataset, f"s3://{BUCKET}/team-a/nope.csv", role), f"s3://{BUCKET}/team-a/nope.csv")
    lister = world.role("lister", read_policy(BUCKET))
    world.access.put_bucket_policy(BUCKET, read_policy(BUCKET, service=True))
    missing = _import(world, dataset, f"s3://{BUCKET}/team-a/nope.csv", lister)
    assert "does not exist" in missing["failureReason"]


def test_an_explicit_deny_in_the_bucket_policy_wins(world: World, dataset: str) -> None:
    role = world.role("reader", read_policy(BUCKET))
    deny = {"Effect": "Deny", "Principal": {"AWS": role}, "Action": "s3:GetObject", "Resource": OBJECTS}
    world.access.put_bucket_policy(BUCKET, _doc(*read_policy(BUCKET, service=True)["Statement"], deny))
    _denied(_import(world, dataset, f"s3://{BUCKET}/team-a/", role), f"s3://{BUCKET}/team-a/data.csv", "denies")


def test_a_job_without_a_role_reads_nothing(world: World, dataset: str) -> None:
    world.access.put_bucket_policy(BUCKET, read_policy(BUCKET, service=True))
    _denied(_import(world, dataset, f"s3://{BUCKET}/team-a/", None), f"s3://{BUCKET}/team-a/", "no roleArn")


# -- KMS ------------------------------------------------------------------------------------------------
@pytest.fixture
def readable(world: World, dataset: str) -> str:
    """A role that S3 lets read the bucket; only the key remains to be allowed."""
    world.access.put_bucket_policy(BUCKET, read_policy(BUCKET, service=True))
    return world.role("reader", read_policy(BUCKET))


def test_the_documented_key_policy_lets_the_import_decrypt(world: World, dataset: str, readable: str) -> None:
    world.access.set_bucket_key(BUCKET, world.kms_key(key_policy(readable)))
    assert _import(world, dataset, f"s3://{BUCKET}/team-a/", readable)["status"] == "ACTIVE"


@pytest.mark.parametrize("who", ["role", "service"])
@pytest.mark.parametrize("action", KEY_ACTIONS)
def test_each_key_action_for_each_principal_is_needed(
    world: World, dataset: str, readable: str, who: str, action: str
) -> None:
    # One principal lacks ``action``; the other keeps all five.
    others = tuple(a for a in KEY_ACTIONS if a != action)
    role_actions = others if who == "role" else KEY_ACTIONS
    service_actions = others if who == "service" else KEY_ACTIONS
    statements = [
        *key_policy(readable, service=False, actions=role_actions)["Statement"],
        *key_policy(service=True, actions=service_actions)["Statement"],
    ]
    key = world.kms_key(_doc(*statements))
    world.access.set_bucket_key(BUCKET, key)
    job = _import(world, dataset, f"s3://{BUCKET}/team-a/", readable)
    principal = readable if who == "role" else "personalize.amazonaws.com"
    _denied(job, f"s3://{BUCKET}/team-a/data.csv", key, f"the key policy does not allow {principal} {action}")


def test_iam_grants_do_not_count_for_the_key(world: World, dataset: str) -> None:
    world.access.put_bucket_policy(BUCKET, read_policy(BUCKET, service=True))
    kms_everything = _doc(_statement("kms:*", "*"))
    role = world.role("reader", read_policy(BUCKET), kms_everything)
    # KMS's default key policy lets the account's IAM policies grant use: not enough for an import.
    world.access.set_bucket_key(BUCKET, world.kms_key())
    _denied(_import(world, dataset, f"s3://{BUCKET}/team-a/", role), f"s3://{BUCKET}/team-a/data.csv", "key policy")


def test_the_aws_managed_s3_key_cannot_be_used(world: World, dataset: str, readable: str) -> None:
    world.access.set_bucket_key(BUCKET, AWS_MANAGED_S3_KEY)
    _denied(_import(world, dataset, f"s3://{BUCKET}/team-a/", readable), f"s3://{BUCKET}/team-a/data.csv", "aws/s3")


def test_existing_tests_keep_permissive_defaults(world: World) -> None:
    # world.bucket() without permissive=False and ROLE_ARN read anything: tests about data need no IAM.
    world.bucket("open")
    world.put_object("open", "x/data.csv", interactions_csv())
    dataset = world.interactions_dataset()
    assert _import(world, dataset, "s3://open/x/", ROLE_ARN)["status"] == "ACTIVE"
