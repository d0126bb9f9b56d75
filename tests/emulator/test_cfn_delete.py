"""Deleting a stack: reverse dependency order, DELETE_FAILED and retrying, retained resources, deploying again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.emulator.cloudformation import EmulatedStack
from tests.emulator.samples import interactions_csv
from tests.emulator.templates import Assembly, ImportSpec, auto_delete_objects, bucket, framework, import_stack, ref
from tests.emulator.world import World

ONE = {"Interactions": ImportSpec("shop-interactions-1", {"data.csv": interactions_csv()}, "interactions/")}


def _deployed(world: World, directory: Path, name: str = "Shop") -> EmulatedStack:
    stack = EmulatedStack(directory, name, world)
    deployment = stack.deploy(framework(stack))
    assert deployment.succeeded, deployment.failures
    return stack


def _emptied_on_delete(assembly: Assembly) -> dict[str, Any]:
    """The one-import stack with CDK's auto-delete-objects on its bucket (RemovalPolicy.DESTROY)."""
    return {**import_stack(assembly, "shop", ONE), "DataAutoDelete": auto_delete_objects("Data")}


def _derived_name(resources: dict[str, Any], logical_id: str, prefix: str) -> None:
    """Let the handler derive the import's job name from the stack instance (JobNamePrefix, no JobName)."""
    properties = resources[logical_id]["Properties"]
    del properties["JobName"]
    properties["JobNamePrefix"] = prefix


def _not_found(call: Any) -> bool:
    with pytest.raises(ClientError) as caught:
        call()
    return str(caught.value.response["Error"]["Code"]) in ("ResourceNotFoundException", "404", "NoSuchBucket")


def test_delete_goes_in_reverse_dependency_order(world: World, tmp_path: Path) -> None:
    assembly = Assembly(tmp_path)
    resources = _emptied_on_delete(assembly)
    stack = _deployed(world, assembly.write("Shop", resources))
    bucket_name, group, role_arn = stack.ref("Data"), stack.ref("Group"), stack.get_att("ImportRole", "Arn")
    job_arn = stack.deployed("Interactions").physical_id
    deployment = stack.delete(framework(stack))
    assert deployment.succeeded and deployment.stack_status == "DELETE_COMPLETE", deployment.failures
    assert set(deployment.records) == set(resources)
    assert {record.resource_status for record in deployment.records.values()} == {"DELETE_COMPLETE"}
    # Each resource goes only once everything that depends on it (Ref, GetAtt, DependsOn) is gone.
    dependencies = stack.spec.dependencies()
    for logical_id, record in deployment.records.items():
        for dependent in (other for other, deps in dependencies.items() if logical_id in deps):
            assert record.started_at is not None and record.started_at >= deployment.completed_at(dependent)
    # The import first (it refers to the dataset, role, provider ...), through the real handler.
    assert [(e["RequestType"], e["LogicalResourceId"], e["PhysicalResourceId"]) for e in deployment.events] == [
        ("Delete", "Interactions", job_arn)
    ]
    assert deployment.outcome("Interactions").status == "SUCCESS"
    # The region no longer holds them: the bucket (emptied first), its policy, the role, the Personalize resources.
    assert _not_found(lambda: world.s3.head_bucket(Bucket=bucket_name))
    assert bucket_name not in world.access.bucket_policies and role_arn not in world.access.inline_policies
    assert _not_found(lambda: world.personalize().describe_dataset_group(datasetGroupArn=group))
    with pytest.raises(RuntimeError, match="was deleted"):
        stack.deploy(framework(stack))


def test_a_bucket_holding_data_fails_to_delete_and_the_rest_is_deleted(world: World, tmp_path: Path) -> None:
    assembly = Assembly(tmp_path)
    # The upload keeps its objects (BucketDeployment's retainOnDelete default): the bucket is not empty.
    stack = _deployed(world, assembly.write("Shop", import_stack(assembly, "shop", ONE)))
    bucket_name = stack.ref("Data")
    deployment = stack.delete(framework(stack))
    data = deployment.records["Data"]
    assert data.resource_status == "DELETE_FAILED" and "BucketNotEmpty" in data.reason
    assert deployment.stack_status == "DELETE_FAILED"
    assert deployment.stack_reason == "The following resource(s) failed to delete: [Data]. "
    others = {record.resource_status for lid, record in deployment.records.items() if lid != "Data"}
    assert others == {"DELETE_COMPLETE"}  # CloudFormation goes on with what does not wait for the bucket
    # The stack keeps the bucket; once it is emptied, deleting again finishes the job (same stack instance).
    assert stack.deployed("Data").physical_id == bucket_name
    for item in world.s3.list_objects_v2(Bucket=bucket_name)["Contents"]:
        world.s3.delete_object(Bucket=bucket_name, Key=item["Key"])
    again = stack.delete(framework(stack))
    assert again.succeeded and list(again.records) == ["Data"] and again.stack_id == stack.stack_id


def test_a_retained_bucket_survives_and_a_new_instance_deploys_with_the_same_names(
    world: World, tmp_path: Path
) -> None:
    assembly = Assembly(tmp_path)
    resources = import_stack(assembly, "shop", ONE)
    resources["Data"].update(DeletionPolicy="Retain", UpdateReplacePolicy="Retain")  # RemovalPolicy.RETAIN
    _derived_name(resources, "Interactions", "shop-interactions")
    directory = assembly.write("Shop", resources)
    first = _deployed(world, directory)
    bucket_name, group = first.ref("Data"), first.ref("Group")
    dataset = first.get_att("InteractionsDataset", "DatasetArn")
    first_job = first.deployed("Interactions").physical_id
    deleted = first.delete(framework(first))
    assert deleted.succeeded, deleted.failures
    assert (deleted.records["Data"].action, deleted.records["Data"].resource_status) == ("Retain", "DELETE_SKIPPED")
    body = world.s3.get_object(Bucket=bucket_name, Key="interactions/data.csv")["Body"].read()
    assert body == interactions_csv()  # kept with its objects; its policy went with the DataPolicy resource
    assert bucket_name not in world.access.bucket_policies
    # Deploying the stack again is a new stack instance: a new StackId, and the Personalize names are free.
    second = EmulatedStack(directory, "Shop", world)
    assert second.stack_id != first.stack_id
    again = second.deploy(framework(second))
    assert again.succeeded, again.failures
    assert (second.ref("Group"), second.get_att("InteractionsDataset", "DatasetArn")) == (group, dataset)
    assert second.ref("Data") != bucket_name  # a new bucket: the retained one is no longer the stack's
    # The derived job name follows the stack instance, so the new import is a new job; the old one stays.
    second_job = again.physical_id("Interactions")
    assert second_job != first_job
    describe = world.personalize().describe_dataset_import_job
    statuses = [describe(datasetImportJobArn=arn)["datasetImportJob"]["status"] for arn in (first_job, second_job)]
    assert statuses == ["ACTIVE", "ACTIVE"]


def test_a_job_name_stays_taken_after_its_dataset_group_is_deleted(world: World, tmp_path: Path) -> None:
    assembly = Assembly(tmp_path)
    directory = assembly.write("Shop", _emptied_on_delete(assembly))
    first = _deployed(world, directory)
    old_job = first.deployed("Interactions").physical_id
    assert first.delete(framework(first)).succeeded
    # The same template again (an explicit JobName): the group, schema and dataset are created anew,
    # but the job name belongs to the old job, which read another bucket with another role.
    second = EmulatedStack(directory, "Shop", world)
    deployment = second.deploy(framework(second))
    record = deployment.records["Interactions"]
    assert record.resource_status == "CREATE_FAILED"
    assert "'shop-interactions-1' is already used by a job with different inputs" in record.reason
    assert "job names are permanent" in record.reason
    assert deployment.records["InteractionsDataset"].resource_status == "CREATE_COMPLETE"
    assert record.physical_id == old_job  # the name, hence the ARN, of the old job


def test_a_stack_whose_export_is_imported_cannot_be_deleted(world: World, tmp_path: Path) -> None:
    producer_outputs = {"DataName": {"Value": ref("Data"), "Export": {"Name": "shop-data"}}}
    directory = Assembly(tmp_path / "p").write("Data", {"Data": bucket()}, Outputs=producer_outputs)
    producer = _deployed(world, directory, "Data")
    reader = {"Type": "AWS::Lambda::Function", "Properties": {"Environment": {"Fn::ImportValue": "shop-data"}}}
    consumer = _deployed(world, Assembly(tmp_path / "c").write("Reader", {"Reader": reader}), "Reader")
    refused = producer.delete()
    assert refused.stack_status == "DELETE_FAILED" and refused.records == {}
    assert refused.stack_reason == f"Export shop-data cannot be deleted as it is in use by {consumer.stack_id}"
    assert world.s3.head_bucket(Bucket=producer.ref("Data"))
    assert consumer.delete().succeeded
    assert producer.delete().succeeded and "shop-data" not in world.exports


def test_only_the_deletion_policy_keeps_a_resource_on_stack_delete(world: World, tmp_path: Path) -> None:
    kept, replaced_only = bucket(), bucket()
    kept["DeletionPolicy"] = "RetainExceptOnCreate"  # a delete is no rollback of a create: kept
    replaced_only["UpdateReplacePolicy"] = "Retain"  # applies to replacements during updates only
    stack = _deployed(world, Assembly(tmp_path).write("Buckets", {"Kept": kept, "Gone": replaced_only}), "Buckets")
    names = stack.ref("Kept"), stack.ref("Gone")
    deployment = stack.delete()
    assert deployment.succeeded
    assert {lid: record.action for lid, record in deployment.records.items()} == {"Kept": "Retain", "Gone": "Delete"}
    assert world.s3.head_bucket(Bucket=names[0]) and _not_found(lambda: world.s3.head_bucket(Bucket=names[1]))


def test_an_update_deletes_removed_personalize_resources_unless_retained(world: World, tmp_path: Path) -> None:
    first = Assembly(tmp_path / "v1")
    resources = _emptied_on_delete(first)
    stack = _deployed(world, first.write("Shop", resources))
    group, dataset = stack.ref("Group"), stack.get_att("InteractionsDataset", "DatasetArn")
    # v2 keeps only the group (retained if removed) and drops the import, its dataset and schema.
    second = Assembly(tmp_path / "v2")
    deployment = stack.update(second.write("Shop", {"Group": resources["Group"]}), framework(stack))
    assert deployment.succeeded and {r.resource_status for r in deployment.cleanup.values()} == {"DELETE_COMPLETE"}
    assert _not_found(lambda: world.personalize().describe_dataset(datasetArn=dataset))
    assert world.personalize().describe_dataset_group(datasetGroupArn=group)["datasetGroup"]["status"] == "ACTIVE"
    third = Assembly(tmp_path / "v3")
    retained_group = {**resources["Group"], "DeletionPolicy": "Retain"}
    assert stack.update(third.write("Shop", {"Group": retained_group, "Other": bucket()})).succeeded
    removed = stack.update(Assembly(tmp_path / "v4").write("Shop", {"Other": bucket()}))
    assert removed.cleanup["Group"].resource_status == "DELETE_SKIPPED"
    assert world.personalize().describe_dataset_group(datasetGroupArn=group)["datasetGroup"]["status"] == "ACTIVE"
