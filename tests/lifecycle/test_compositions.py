"""The compositions of ``tests/compositions.py``, deployed as a whole into one emulated account and region.

CloudFormation's order (every DependsOn and reference), the real handler behind the Provider
framework, Personalize's rules (names unique per account and region, INCREMENTAL only after bulk
data, first-level folder reads) and S3/KMS access checked against the synthesized bucket, role and
key policies. Nothing sleeps: the clock is virtual.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_s3_deployment as s3_deployment
from aws_cdk.assertions import Annotations, Match
from constructs import Construct

from constructs_personalize import RESOURCE_TYPE
from tests.compositions import COMPOSITIONS, LAKE_BUCKET, LAKE_PREFIX, LAKE_READER, Composition
from tests.constants import ROLE_ARN
from tests.emulator.access import read_policy
from tests.emulator.cloudformation import EmulatedStack
from tests.emulator.deployment import Deployment
from tests.emulator.world import World

pytestmark = pytest.mark.lifecycle


def _synth(outdir: Path, name: str, change: Callable[[Composition], None] | None = None) -> tuple[Path, Composition]:
    app = App(outdir=str(outdir), context={"aws:cdk:enable-path-metadata": True})
    composition = COMPOSITIONS[name](app)
    if change is not None:
        change(composition)
    app.synth()
    return outdir, composition


@pytest.fixture(scope="module")
def assemblies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Composition]]:
    # One synth per composition for the module; each test deploys into its own emulated region.
    return {name: _synth(tmp_path_factory.mktemp(name), name) for name in COMPOSITIONS}


def _deploy(world: World, assembly: tuple[Path, Composition]) -> dict[str, tuple[EmulatedStack, Deployment]]:
    directory, composition = assembly
    deployed = {}
    for stack in composition.stacks:  # in deployment order (a producer before its consumers)
        emulated = EmulatedStack(directory, stack.stack_name, world)
        deployed[stack.stack_name] = (emulated, emulated.deploy())
    return deployed


def _imports(emulated: EmulatedStack) -> list[str]:
    return [k for k, v in emulated.template["Resources"].items() if v["Type"] == RESOURCE_TYPE]


def _job(world: World, arn: str) -> dict[str, Any]:
    return dict(world.personalize().describe_dataset_import_job(datasetImportJobArn=arn)["datasetImportJob"])


def _assert_imported(world: World, emulated: EmulatedStack, deployment: Deployment) -> list[str]:
    assert deployment.succeeded, [(r.logical_id, r.reason) for r in deployment.failures]
    arns = [deployment.physical_id(logical_id) for logical_id in _imports(emulated)]
    assert arns and all(_job(world, arn)["status"] == "ACTIVE" for arn in arns)
    return arns


def _with_newer_cli_layer(composition: Composition) -> None:
    """What an aws-cdk-lib upgrade does to a synth: BucketDeployment's own assets change, the data does not."""
    stack = composition.stacks[0]
    upload = next(c for c in stack.node.find_all() if isinstance(c, s3_deployment.BucketDeployment))
    layer = upload.node.find_child("AwsCliLayer")
    assert isinstance(layer, Construct)
    s3_assets.Asset(layer, "NewerCliCode", path=__file__)


def test_two_copies_of_a_stack_in_one_account_import_side_by_side_and_redeploy_without_new_jobs(
    world: World, assemblies: dict[str, tuple[Path, Composition]], tmp_path: Path
) -> None:
    deployed = _deploy(world, assemblies["two-copies"])
    dev, pr = deployed["RecsDev"], deployed["RecsPr123"]
    jobs = _assert_imported(world, *dev) + _assert_imported(world, *pr)
    assert len(set(jobs)) == 2
    creates = world.emulator.count("CreateDatasetImportJob")

    for emulated, _ in deployed.values():  # both re-deployed unchanged
        again = emulated.update(assemblies["two-copies"][0])
        assert again.succeeded and not again.events
    upgraded, _ = _synth(tmp_path / "upgraded", "two-copies", _with_newer_cli_layer)
    upgrade = dev[0].update(upgraded)
    assert upgrade.succeeded and not upgrade.events, "a change that is not the data must not send an event"
    assert world.emulator.count("CreateDatasetImportJob") == creates


@pytest.mark.parametrize("name", ["full-then-incremental", "full-then-incremental-by-the-library"])
def test_bulk_then_incremental_on_one_dataset_runs_in_that_order(
    world: World, assemblies: dict[str, tuple[Path, Composition]], name: str
) -> None:
    ((emulated, deployment),) = _deploy(world, assemblies[name]).values()
    _assert_imported(world, emulated, deployment)
    bulk, batch = (emulated.import_id(name) for name in ("Bulk", "Batch"))
    bulk_record, batch_record = deployment.records[bulk], deployment.records[batch]
    assert batch_record.started_at is not None and bulk_record.completed_at is not None
    assert batch_record.started_at >= bulk_record.completed_at
    assert _job(world, deployment.physical_id(batch))["importMode"] == "INCREMENTAL"


def test_three_datasets_import_in_parallel_and_the_solution_waits_for_all(
    world: World, assemblies: dict[str, tuple[Path, Composition]]
) -> None:
    ((emulated, deployment),) = _deploy(world, assemblies["three-datasets-then-solution"]).values()
    _assert_imported(world, emulated, deployment)
    imports = [deployment.records[logical_id] for logical_id in _imports(emulated)]
    assert len(imports) == 3
    assert len({record.started_at for record in imports}) == 1, "imports of different datasets run in parallel"
    (solution,) = [r for r in deployment.records.values() if r.resource_type == "AWS::Personalize::Solution"]
    assert solution.completed_at is not None
    assert solution.completed_at >= max(record.completed_at or 0 for record in imports)


def test_a_customer_kms_key_lets_personalize_read_the_data(
    world: World, assemblies: dict[str, tuple[Path, Composition]]
) -> None:
    ((emulated, deployment),) = _deploy(world, assemblies["customer-kms-key"]).values()
    _assert_imported(world, emulated, deployment)


def test_a_bucket_from_another_stack_receives_the_upload_and_serves_the_import(
    world: World, assemblies: dict[str, tuple[Path, Composition]]
) -> None:
    deployed = _deploy(world, assemblies["bucket-from-another-stack"])
    assert deployed["DataLake"][1].succeeded
    _assert_imported(world, *deployed["RecsOnLake"])


def _existing_lake(world: World, composition: Composition) -> None:
    for bucket in composition.existing_buckets:
        world.bucket(bucket, permissive=False)
    for bucket, key, path in composition.existing_objects:
        world.put_object(bucket, key, path.read_bytes())


def _grant_printed_statement(world: World, composition: Composition) -> None:
    """What the platform team does with the synth warning: add the statement to the lake's bucket policy."""
    (warning,) = Annotations.from_stack(composition.stacks[0]).find_warning(
        "*", Match.string_like_regexp("bucket policy cannot be changed")
    )
    statement = json.loads(re.sub(r" \[ack: .*\]$", "", str(warning.entry.data)).split(": ", 2)[-1])
    assert "${" not in json.dumps(statement) and "<" not in json.dumps(statement)  # pasted as printed
    world.access.put_bucket_policy(LAKE_BUCKET, {"Version": "2012-10-17", "Statement": [statement]})


def test_an_existing_bucket_serves_the_import_once_it_holds_the_statement_the_synth_printed(
    world: World, assemblies: dict[str, tuple[Path, Composition]]
) -> None:
    directory, composition = assemblies["existing-bucket"]
    _existing_lake(world, composition)
    _grant_printed_statement(world, composition)
    ((emulated, deployment),) = _deploy(world, (directory, composition)).values()
    (arn,) = _assert_imported(world, emulated, deployment)
    assert _job(world, arn)["dataSource"]["dataLocation"] == f"s3://{LAKE_BUCKET}/personalize/interactions/"


def test_a_stack_deleted_and_deployed_again_imports_again_under_a_new_name(
    world: World, assemblies: dict[str, tuple[Path, Composition]]
) -> None:
    directory, composition = assemblies["existing-bucket"]
    _existing_lake(world, composition)
    _grant_printed_statement(world, composition)
    ((first, deployment),) = _deploy(world, (directory, composition)).values()
    (old_job,) = _assert_imported(world, first, deployment)
    assert first.delete().stack_status == "DELETE_COMPLETE"
    # Same stack name, same dataset ARN, same data location: a new stack instance all the same.
    ((again, redeployment),) = _deploy(world, (directory, composition)).values()
    (new_job,) = _assert_imported(world, again, redeployment)
    assert new_job != old_job


def test_an_explicit_job_name_reused_after_the_stack_was_deleted_fails_instead_of_reporting_the_old_job(
    world: World, assemblies: dict[str, tuple[Path, Composition]]
) -> None:
    directory, composition = assemblies["existing-bucket-named-job"]
    _existing_lake(world, composition)
    _grant_printed_statement(world, composition)
    world.role(LAKE_READER.rsplit("/", 1)[1], read_policy(LAKE_BUCKET, LAKE_PREFIX))
    ((first, deployment),) = _deploy(world, (directory, composition)).values()
    _assert_imported(world, first, deployment)
    assert first.delete().stack_status == "DELETE_COMPLETE"
    ((_, redeployment),) = _deploy(world, (directory, composition)).values()
    (failure,) = redeployment.failures
    assert "is taken by a job of an earlier dataset with the same ARN" in failure.reason


def test_an_existing_bucket_without_that_statement_fails_the_import_with_personalizes_reason(
    world: World, assemblies: dict[str, tuple[Path, Composition]]
) -> None:
    directory, composition = assemblies["existing-bucket"]
    _existing_lake(world, composition)
    ((_, deployment),) = _deploy(world, (directory, composition)).values()
    (failure,) = deployment.failures
    assert "Insufficient privileges for accessing data in Amazon S3" in failure.reason


def _logical_id(emulated: EmulatedStack, path: str) -> str:
    (logical_id,) = [
        k
        for k, v in emulated.template["Resources"].items()
        if v.get("Metadata", {}).get("aws:cdk:path") == f"{emulated.name}/{path}"
    ]
    return str(logical_id)


def test_imports_sharing_a_store_open_only_their_own_prefixes_to_personalize(
    world: World, assemblies: dict[str, tuple[Path, Composition]]
) -> None:
    ((emulated, deployment),) = _deploy(world, assemblies["three-datasets-then-solution"]).values()
    _assert_imported(world, emulated, deployment)
    bucket = emulated.ref(_logical_id(emulated, "ConstructsPersonalizeDataStore/DataBucket/Resource"))
    role_arn = emulated.get_att(_logical_id(emulated, "ConstructsPersonalizeDataStore/ImportRole/Resource"), "Arn")
    # Another team's file in the same bucket. The store's role reads only the imports' prefixes; and
    # even a role that may read everything cannot make Personalize read it: the bucket policy opens
    # only the imports' prefixes to the service.
    body = (Path(__file__).resolve().parents[2] / "data" / "interactions" / "interactions.csv").read_bytes()
    location = world.put_object(bucket, "other-team/interactions.csv", body)
    dataset = _job(world, deployment.physical_id(_imports(emulated)[0]))["datasetArn"]
    for name, role in (("store-role", role_arn), ("read-everything-role", ROLE_ARN)):
        arn = world.personalize().create_dataset_import_job(
            jobName=f"reads-another-prefix-{name}",
            datasetArn=dataset,
            dataSource={"dataLocation": location},
            roleArn=role,
            importMode="INCREMENTAL",
        )["datasetImportJobArn"]
        world.clock.advance(3600)
        job = _job(world, arn)
        assert job["status"] == "CREATE FAILED", name
        assert "Insufficient privileges for accessing data in Amazon S3" in job["failureReason"]
