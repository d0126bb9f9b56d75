"""Compositions a platform team really writes, shared by the template checks and the emulated deploys.

Each builder adds its stacks to an app and returns a ``Composition``: the stacks in deployment order
and what the platform already had before the deploy (a data lake bucket with data and the policies
the library asked for in its synth warnings).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aws_cdk import App, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_personalize as personalize
from aws_cdk import aws_s3 as s3

from app import PersonalizeExampleStack
from constructs_personalize import (
    DatasetImport,
    DatasetSchema,
    DataSource,
    DataStore,
    Field,
    ImportMode,
    TrainingDataset,
)
from tests.constants import SAMPLE_DIR, TEST_DATA
from tests.infra.helpers import ENV

LAKE_BUCKET = "acme-data-lake"
LAKE_PREFIX = "personalize/interactions/"
LAKE_READER = f"arn:aws:iam::{ENV.account}:role/team-lake-reader"
ITEMS_SCHEMA = DatasetSchema.items(Field.string("CATEGORY", categorical=True))
USERS_SCHEMA = DatasetSchema.users(Field.string("SEGMENT", categorical=True))


@dataclass
class Composition:
    stacks: list[Stack]
    # (bucket, key, local file) placed in the account before the deploy
    existing_objects: list[tuple[str, str, Path]] = field(default_factory=list)
    existing_buckets: list[str] = field(default_factory=list)


def _asset(path: Path) -> DataSource:
    return DataSource.from_asset(path)


def _group(stack: Stack) -> str:
    name = stack.stack_name.lower()
    return personalize.CfnDatasetGroup(stack, "DatasetGroup", name=name).attr_dataset_group_arn


def _interactions(stack: Stack, group_arn: str) -> TrainingDataset:
    return TrainingDataset(
        stack,
        "Interactions",
        name=f"{stack.stack_name.lower()}-interactions",
        dataset_group_arn=group_arn,
        schema=DatasetSchema.interactions(),
        data=_asset(SAMPLE_DIR),
    )


def existing_bucket(app: App, *, job_name: str | None = None) -> Composition:
    """Data already in the team's data lake bucket (not managed by any stack), located with a token."""
    stack = Stack(app, "RecsFromLake", env=ENV)
    # With a job name of its own, the team also brings the role that reads its lake.
    named: dict[str, Any] = {}
    if job_name:
        named = {"job_name": job_name, "role": iam.Role.from_role_arn(stack, "LakeReader", LAKE_READER, mutable=False)}
    lake = s3.Bucket.from_bucket_name(stack, "Lake", LAKE_BUCKET)
    group = _group(stack)
    schema = DatasetSchema.interactions()
    TrainingDataset(
        stack,
        "Interactions",
        name="recsfromlake-interactions",
        dataset_group_arn=group,
        schema=schema,
        data=DataSource.from_uri(f"s3://{lake.bucket_name}/{LAKE_PREFIX}"),
        **named,
    )
    return Composition(
        [stack],
        existing_objects=[(LAKE_BUCKET, f"{LAKE_PREFIX}interactions.csv", SAMPLE_DIR / "interactions.csv")],
        existing_buckets=[LAKE_BUCKET],
    )


def bucket_from_another_stack(app: App) -> Composition:
    """The data lake stack owns the bucket; the recommendations stack uploads into it and imports."""
    lake_stack = Stack(app, "DataLake", env=ENV)
    logs = s3.Bucket(
        lake_stack,
        "LakeLogs",
        enforce_ssl=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        encryption=s3.BucketEncryption.S3_MANAGED,
    )
    lake = s3.Bucket(
        lake_stack,
        "Lake",
        enforce_ssl=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        encryption=s3.BucketEncryption.S3_MANAGED,
        server_access_logs_bucket=logs,
        server_access_logs_prefix="lake/",
    )
    recs = Stack(app, "RecsOnLake", env=ENV)
    DatasetImport(
        recs,
        "Interactions",
        dataset_arn=_interactions_dataset(recs),
        store=DataStore(recs, "Lake", bucket=lake),
        data=_asset(SAMPLE_DIR),
    )
    return Composition([lake_stack, recs])


def _interactions_dataset(stack: Stack) -> str:
    group = _group(stack)
    schema = personalize.CfnSchema(
        stack, "Schema", name=f"{stack.stack_name.lower()}-schema", schema=DatasetSchema.interactions().to_json()
    )
    return personalize.CfnDataset(
        stack,
        "Dataset",
        name=f"{stack.stack_name.lower()}-interactions",
        dataset_group_arn=group,
        dataset_type="Interactions",
        schema_arn=schema.attr_schema_arn,
    ).attr_dataset_arn


def two_copies(app: App) -> Composition:
    """The example stack as two environments in one account and region."""
    return Composition([PersonalizeExampleStack(app, "RecsDev"), PersonalizeExampleStack(app, "RecsPr123")])


def full_then_incremental(app: App, *, explicit_order: bool = True) -> Composition:
    """A bulk import and a later batch of the same dataset; the team may also order them explicitly."""
    stack = Stack(app, "RecsOrdered", env=ENV)
    dataset_arn = _interactions_dataset(stack)
    # Declared INCREMENTAL first: the library still runs the FULL import before it.
    incremental = DatasetImport(
        stack,
        "Batch",
        dataset_arn=dataset_arn,
        data=_asset(TEST_DATA / "interactions-incremental"),
        schema=DatasetSchema.interactions(),
        import_mode=ImportMode.INCREMENTAL,
    )
    bulk = DatasetImport(
        stack, "Bulk", dataset_arn=dataset_arn, data=_asset(SAMPLE_DIR), schema=DatasetSchema.interactions()
    )
    if explicit_order:
        incremental.node.add_dependency(bulk)
    return Composition([stack])


def three_datasets_then_solution(app: App) -> Composition:
    """Interactions, items and users imported in parallel; the solution starts after all three."""
    stack = Stack(app, "RecsThree", env=ENV)
    group = _group(stack)
    imports = [
        _interactions(stack, group),
        TrainingDataset(
            stack,
            "Items",
            name="recsthree-items",
            dataset_group_arn=group,
            schema=ITEMS_SCHEMA,
            data=_asset(TEST_DATA / "items"),
        ),
        TrainingDataset(
            stack,
            "Users",
            name="recsthree-users",
            dataset_group_arn=group,
            schema=USERS_SCHEMA,
            data=_asset(TEST_DATA / "users"),
        ),
    ]
    solution = personalize.CfnSolution(
        stack,
        "Solution",
        name="recsthree-user-personalization",
        dataset_group_arn=group,
        recipe_arn="arn:aws:personalize:::recipe/aws-user-personalization-v2",
    )
    solution.node.add_dependency(*imports)
    return Composition([stack])


def customer_kms_key(app: App) -> Composition:
    """The training data encrypted under the team's own KMS key."""
    stack = Stack(app, "RecsEncrypted", env=ENV)
    key = kms.Key(stack, "DataKey", enable_key_rotation=True, description="Training data")
    DatasetImport(
        stack,
        "Interactions",
        dataset_arn=_interactions_dataset(stack),
        data=_asset(SAMPLE_DIR),
        store=DataStore(stack, "Encrypted", encryption_key=key),
    )
    return Composition([stack])


def kms_key_in_storage_stack(app: App) -> Composition:
    """A storage stack owns the encrypted store (its key, bucket and role); another stack imports with it."""
    storage = Stack(app, "RecsStorage", env=ENV)
    key = kms.Key(storage, "DataKey", enable_key_rotation=True, description="Training data")
    store = DataStore(storage, "Encrypted", encryption_key=key)
    recs = Stack(app, "RecsOnEncryptedStore", env=ENV)
    DatasetImport(recs, "Interactions", dataset_arn=_interactions_dataset(recs), data=_asset(SAMPLE_DIR), store=store)
    return Composition([storage, recs])


COMPOSITIONS: dict[str, Callable[[App], Composition]] = {
    "existing-bucket": existing_bucket,
    "existing-bucket-named-job": lambda app: existing_bucket(app, job_name="recs-from-lake-1"),
    "bucket-from-another-stack": bucket_from_another_stack,
    "two-copies": two_copies,
    "full-then-incremental": full_then_incremental,
    # The library orders imports of one dataset itself: FULL first, whatever the declaration order.
    "full-then-incremental-by-the-library": lambda app: full_then_incremental(app, explicit_order=False),
    "three-datasets-then-solution": three_datasets_then_solution,
    "customer-kms-key": customer_kms_key,
    "kms-key-in-storage-stack": kms_key_in_storage_stack,
}
