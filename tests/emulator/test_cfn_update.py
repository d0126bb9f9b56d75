"""Later deploys of one stack instance: which events CloudFormation sends, and the cleanup phase."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.emulator.cloudformation import EmulatedStack
from tests.emulator.deployment import COMPLETE, FAILED
from tests.emulator.samples import interactions_csv
from tests.emulator.templates import (
    Assembly,
    ImportSpec,
    bucket,
    bucket_policy,
    framework,
    import_stack,
    items_csv,
    users_csv,
)
from tests.emulator.world import World

TAGS = [{"Key": "project", "Value": "shop"}]
INTERACTIONS = ImportSpec("shop-interactions-1", {"data.csv": interactions_csv()}, "interactions/")
ITEMS = ImportSpec("shop-items-1", {"items.csv": items_csv()}, "items/", "Items")


def _synth(
    directory: Path, imports: dict[str, ImportSpec], tags: dict[str, list[dict[str, str]]] | None = None
) -> Path:
    """A synth of the Shop stack into its own assembly directory, as each ``cdk deploy`` makes one."""
    assembly = Assembly(directory)
    resources = import_stack(assembly, "shop", imports)
    for logical_id, value in (tags or {}).items():
        resources[logical_id]["Properties"]["Tags"] = value
    return assembly.write("Shop", resources)


def _deployed(world: World, tmp_path: Path) -> EmulatedStack:
    stack = EmulatedStack(
        _synth(tmp_path / "v1", {"Interactions": INTERACTIONS, "Items": ITEMS}, {"Items": TAGS}), "Shop", world
    )
    assert stack.deploy(framework(stack)).succeeded
    return stack


def _tags(world: World, job_arn: str) -> dict[str, str]:
    tags = world.personalize().list_tags_for_resource(resourceArn=job_arn)["tags"]
    return {tag["tagKey"]: tag["tagValue"] for tag in tags}


def test_unchanged_properties_send_no_event(world: World, tmp_path: Path) -> None:
    stack = _deployed(world, tmp_path)
    created = world.emulator.count("CreateDatasetImportJob")
    again = _synth(tmp_path / "v2", {"Interactions": INTERACTIONS, "Items": ITEMS}, {"Items": TAGS})
    deployment = stack.update(again, framework(stack))
    assert deployment.succeeded and deployment.events == [] and deployment.cleanup == {}
    assert {deployment.records[lid].action for lid in ("Interactions", "Items")} == {"NoChange"}
    assert deployment.records["InteractionsUpload"].action == "Update"  # the data is uploaded again
    assert world.emulator.count("CreateDatasetImportJob") == created
    assert deployment.stack_id == stack.stack_id


def test_changed_properties_update_and_a_new_physical_id_deletes_the_old(world: World, tmp_path: Path) -> None:
    stack = _deployed(world, tmp_path)
    old_interactions, old_items = stack.deployed("Interactions"), stack.deployed("Items")
    changed = ImportSpec("shop-interactions-2", {"data.csv": interactions_csv(rows=1300)}, "interactions/")
    new_tags = [{"Key": "project", "Value": "shop"}, {"Key": "owner", "Value": "ml"}]
    directory = _synth(tmp_path / "v2", {"Interactions": changed, "Items": ITEMS}, {"Items": new_tags})
    deployment = stack.update(directory, framework(stack))
    assert deployment.succeeded, deployment.failures
    kinds = [(event["RequestType"], event["LogicalResourceId"]) for event in deployment.events]
    # Both updates first; the old job's Delete only in the cleanup phase, after the whole update.
    assert kinds == [("Update", "Interactions"), ("Update", "Items"), ("Delete", "Interactions")]
    update, _, delete = deployment.events
    assert update["OldResourceProperties"] == old_interactions.properties
    assert update["PhysicalResourceId"] == old_interactions.physical_id
    assert update["ResourceProperties"]["JobName"] == "shop-interactions-2"
    assert delete["PhysicalResourceId"] == old_interactions.physical_id
    assert delete["ResourceProperties"] == old_interactions.properties
    assert {event["StackId"] for event in deployment.events} == {stack.stack_id}
    assert deployment.cleanup["Interactions"].status == COMPLETE
    assert deployment.physical_id("Interactions").endswith("/shop-interactions-2")
    # Tags are the one input a job can change: same job, re-tagged in place.
    assert deployment.physical_id("Items") == old_items.physical_id and "Items" not in deployment.cleanup
    assert _tags(world, old_items.physical_id) == {"project": "shop", "owner": "ml"}


def test_new_resources_are_created_and_removed_ones_deleted(world: World, tmp_path: Path) -> None:
    stack = _deployed(world, tmp_path)
    old_items = stack.deployed("Items")
    users = ImportSpec("shop-users-1", {"users.csv": users_csv()}, "users/", "Users")
    deployment = stack.update(_synth(tmp_path / "v2", {"Interactions": INTERACTIONS, "Users": users}), framework(stack))
    assert deployment.succeeded, deployment.failures
    assert [(e["RequestType"], e["LogicalResourceId"]) for e in deployment.events] == [
        ("Create", "Users"),
        ("Delete", "Items"),
    ]
    assert deployment.events[-1]["PhysicalResourceId"] == old_items.physical_id
    assert deployment.records["Users"].action == "Create" and deployment.records["UsersDataset"].action == "Create"
    # Removed together: the import goes before the upload it depended on.
    cleanup = deployment.cleanup
    assert set(cleanup) == {"Items", "ItemsUpload", "ItemsDataset", "ItemsSchema"}
    assert cleanup["ItemsUpload"].started_at >= cleanup["Items"].completed_at  # type: ignore[operator]


def test_a_removed_policy_no_longer_grants(world: World, tmp_path: Path) -> None:
    first = Assembly(tmp_path / "v1").write("Data", {"Data": bucket(), "DataPolicy": bucket_policy("Data")})
    stack = EmulatedStack(first, "Data", world)
    stack.deploy()
    name = stack.ref("Data")
    assert name in world.access.bucket_policies
    deployment = stack.update(Assembly(tmp_path / "v2").write("Data", {"Data": bucket()}))
    assert deployment.cleanup["DataPolicy"].status == COMPLETE and name not in world.access.bucket_policies


def test_a_failed_update_keeps_the_old_resource(world: World, tmp_path: Path) -> None:
    stack = _deployed(world, tmp_path)
    old = stack.deployed("Interactions")
    too_few = ImportSpec("shop-interactions-2", {"data.csv": interactions_csv(rows=10)}, "interactions/")
    deployment = stack.update(
        _synth(tmp_path / "v2", {"Interactions": too_few, "Items": ITEMS}, {"Items": TAGS}), framework(stack)
    )
    record = deployment.records["Interactions"]
    assert (record.status, deployment.succeeded) == (FAILED, False)
    assert "less than the minimum required" in record.reason
    assert deployment.cleanup == {}  # no cleanup phase: the old job is not deleted
    assert stack.deployed("Interactions") == old


def test_the_step_by_step_api_still_works(world: World, tmp_path: Path) -> None:
    stack = EmulatedStack(_synth(tmp_path / "v1", {"Interactions": INTERACTIONS}), "Shop", world).deploy_dependencies()
    assert stack.import_ids() == ["Interactions"]
    properties: dict[str, Any] = stack.import_properties("Interactions")
    assert properties["DataLocation"] == f"s3://{stack.ref('Data')}/interactions/"
    assert properties["ServiceToken"] == stack.get_att("ProviderOnEvent", "Arn")
    outcome = framework(stack).run(stack.event("Interactions"))
    assert outcome.status == "SUCCESS", outcome.reason
    stack.update_to(_synth(tmp_path / "v2", {"Interactions": ImportSpec("x", {"data.csv": b"new"}, "interactions/")}))
    body = world.s3.get_object(Bucket=stack.ref("Data"), Key="interactions/data.csv")["Body"].read()
    assert body == b"new"
