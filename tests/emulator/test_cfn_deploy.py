"""Whole-stack deploys: dependency order, concurrent imports on the virtual clock, access from the template."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.emulator.cloudformation import EmulatedStack
from tests.emulator.deployment import CANCELLED, COMPLETE, FAILED, NOT_STARTED, Deployment
from tests.emulator.samples import interactions_csv
from tests.emulator.service import JobTiming
from tests.emulator.templates import (
    Assembly,
    ImportSpec,
    arn_of,
    framework,
    import_stack,
    items_csv,
    kms_key,
    read_grant,
    users_csv,
)
from tests.emulator.world import World

THREE = {
    "Interactions": ImportSpec("shop-interactions-1", {"data.csv": interactions_csv()}, "interactions/"),
    "Items": ImportSpec("shop-items-1", {"items.csv": items_csv()}, "items/", "Items"),
    "Users": ImportSpec("shop-users-1", {"users.csv": users_csv()}, "users/", "Users"),
}
SOLUTION = {
    "Type": "AWS::Personalize::Solution",
    "Properties": {"Name": "shop", "DatasetGroupArn": arn_of("Group", "DatasetGroupArn")},
    "DependsOn": list(THREE),
}


def _deploy(world: World, directory: Path, name: str = "Shop") -> tuple[EmulatedStack, Deployment]:
    stack = EmulatedStack(directory, name, world)
    return stack, stack.deploy(framework(stack))


def _job(world: World, arn: str) -> dict[str, Any]:
    return dict(world.personalize().describe_dataset_import_job(datasetImportJobArn=arn)["datasetImportJob"])


def test_the_solution_starts_only_after_all_three_imports_are_active(world: World, tmp_path: Path) -> None:
    assembly = Assembly(tmp_path)
    world.emulator.set_job_timing("shop-items-1", JobTiming(pending=30, running=900))
    stack, deployment = _deploy(
        world, assembly.write("Shop", {**import_stack(assembly, "shop", THREE), "Solution": SOLUTION})
    )
    assert deployment.succeeded, deployment.failures
    records = [deployment.records[lid] for lid in THREE]
    # Independent imports run at once: started at the same virtual moment, their jobs created together.
    assert len({record.started_at for record in records}) == 1
    jobs = [_job(world, deployment.physical_id(lid)) for lid in THREE]
    assert len({job["creationDateTime"] for job in jobs}) == 1 and {job["status"] for job in jobs} == {"ACTIVE"}
    finished = [world.emulator.job_finished_at(deployment.physical_id(lid)) or 0.0 for lid in THREE]
    solution = deployment.completed_at("Solution")
    assert solution == max(deployment.completed_at(lid) for lid in THREE) >= max(finished)
    assert deployment.completed_at("Interactions") < finished[1]  # the slow items import held only the solution
    # Every event named this stack instance, and each import came after its upload and grants.
    assert {event["StackId"] for event in deployment.events} == {stack.stack_id}
    for lid in THREE:
        assert deployment.records[lid].started_at >= deployment.completed_at(f"{lid}Upload")  # type: ignore[operator]
        assert deployment.outcome(lid).status == "SUCCESS"


def test_a_failed_import_stops_the_deploy(world: World, tmp_path: Path) -> None:
    assembly = Assembly(tmp_path)
    resources = {**import_stack(assembly, "shop", THREE), "Solution": SOLUTION}
    # The role may read interactions/ and users/ only: the items import fails when its job reads.
    resources["ImportRoleRead"] = read_grant("ImportRole", "Data", "interactions/")
    resources["UsersRead"] = read_grant("ImportRole", "Data", "users/")
    resources["UsersRead"]["Properties"]["PolicyName"] = "UsersRead"
    resources["Users"]["DependsOn"].append("UsersRead")
    world.emulator.set_job_timing("shop-users-1", JobTiming(pending=30, running=3000))
    _, deployment = _deploy(world, assembly.write("Shop", resources))
    items = deployment.records["Items"]
    assert (items.status, deployment.succeeded) == (FAILED, False)
    assert "Insufficient privileges for accessing data in Amazon S3" in items.reason and "items/" in items.reason
    assert deployment.records["Interactions"].status == COMPLETE  # done before the failure
    assert deployment.records["Users"].status == CANCELLED  # still running: CloudFormation stops waiting
    assert deployment.records["Solution"].status == NOT_STARTED
    assert deployment.finished_at == items.completed_at
    # CloudFormation never heard back from the cancelled import; its job runs on in Personalize.
    assert deployment.records["Users"].physical_id is None
    users_job = "arn:aws:personalize:eu-west-1:123456789012:dataset-import-job/shop-users-1"
    assert _job(world, users_job)["status"] == "CREATE IN_PROGRESS"


@pytest.mark.parametrize("grant_role", [True, False])
def test_a_kms_bucket_needs_the_key_policy_from_the_template(world: World, tmp_path: Path, grant_role: bool) -> None:
    assembly = Assembly(tmp_path)
    imports = {"Interactions": THREE["Interactions"]}
    resources = import_stack(assembly, "shop", imports, key=True)
    if not grant_role:
        resources["Key"] = kms_key()  # the service only
    stack, deployment = _deploy(world, assembly.write("Shop", resources))
    bucket, key_arn = stack.ref("Data"), stack.get_att("Key", "Arn")
    assert world.access.bucket_keys[bucket] == key_arn
    if grant_role:
        assert deployment.succeeded, deployment.failures
        return
    reason = deployment.records["Interactions"].reason
    role_arn = stack.get_att("ImportRole", "Arn")
    assert f"the key policy does not allow {role_arn} kms:Decrypt" in reason and key_arn in reason


def test_the_template_registers_its_policies(world: World, tmp_path: Path) -> None:
    assembly = Assembly(tmp_path)
    resources = import_stack(assembly, "shop", {"Interactions": THREE["Interactions"]})
    managed_document = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}],
    }
    resources["Managed"] = {
        "Type": "AWS::IAM::ManagedPolicy",
        "Properties": {"PolicyDocument": managed_document, "Roles": [{"Ref": "ImportRole"}]},
    }
    inline = {"PolicyName": "inline", "PolicyDocument": managed_document}
    resources["ImportRole"]["Properties"]["Policies"] = [inline]
    stack, deployment = _deploy(world, assembly.write("Shop", resources))
    assert deployment.succeeded, deployment.failures
    role_arn, bucket = stack.get_att("ImportRole", "Arn"), stack.ref("Data")
    assert role_arn == f"arn:aws:iam::123456789012:role/{stack.ref('ImportRole')}"
    access = world.access
    assert set(access.inline_policies[role_arn]) == {"inline", "ImportRoleRead"}
    assert access.attachments[role_arn] == {stack.ref("Managed")}
    assert access.bucket_policies[bucket]["Statement"][1]["Resource"][0] == f"arn:aws:s3:::{bucket}"
    assert bucket not in access.bucket_keys


def test_dataset_group_creation_time_holds_the_datasets_and_imports(world: World, tmp_path: Path) -> None:
    world.emulator.dataset_group_seconds = 120
    assembly = Assembly(tmp_path)
    started = world.clock()
    _, deployment = _deploy(
        world, assembly.write("Shop", import_stack(assembly, "shop", {"Interactions": THREE["Interactions"]}))
    )
    assert deployment.completed_at("Group") == started + 120
    assert deployment.records["InteractionsDataset"].started_at == started + 120
    assert deployment.records["Interactions"].started_at == started + 120
    assert deployment.completed_at("Data") == started  # independent of the group


def test_two_stacks_share_one_region(world: World, tmp_path: Path) -> None:
    one, two = Assembly(tmp_path / "one"), Assembly(tmp_path / "two")
    shop_resources = import_stack(one, "shop", {"Interactions": THREE["Interactions"]})
    one.write("Shop", shop_resources)
    one.write("ShopCopy", shop_resources)
    blog_import = ImportSpec("blog-interactions-1", {"data.csv": interactions_csv()}, "interactions/")
    two.write("Blog", import_stack(two, "blog", {"Interactions": blog_import}))
    (shop, first), (blog, second) = _deploy(world, one.directory, "Shop"), _deploy(world, two.directory, "Blog")
    assert first.succeeded and second.succeeded, (first.failures, second.failures)
    assert shop.ref("Data") != blog.ref("Data") and shop.stack_id != blog.stack_id
    assert {event["StackId"] for event in second.events} == {blog.stack_id}
    # The same template as another stack collides where the template fixes names (Personalize's).
    copy = EmulatedStack(one.directory, "ShopCopy", world)
    again = copy.deploy(framework(copy))
    assert again.records["Group"].status == FAILED and "ResourceAlreadyExistsException" in again.records["Group"].reason
