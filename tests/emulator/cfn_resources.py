"""What the emulated CloudFormation does for each resource type it knows (all but the import's custom resource).

Each type has a create, an update (a later deploy of the same logical id with resolved properties)
and a delete. They act on the emulated region: S3 buckets in moto, Personalize resources through
the emulator's API, and every policy into the access model (``access.py``), since policies decide
whether an import can read its data. Physical names follow CloudFormation's pattern
``<stack>-<logical id>-<random suffix>`` unless the template names the resource.

Lambda functions and state machines register with the region's Step Functions (``cfn_states.py``),
wait condition handles and wait conditions follow ``cfn_wait.py``.
Types not listed here (log groups, Personalize solutions ...) are "generic": they complete when
their dependencies have, with a physical id and ARN-shaped attributes, so references to them
resolve; deleting them does nothing.

Deleting (the stack's DeletionPolicy decides first, ``stack_delete.py``): a bucket goes only if it is
empty (S3's BucketNotEmpty otherwise; a BucketDeployment keeps its objects unless RetainOnDelete is
false, CDK's auto-delete-objects resource empties the bucket before it goes); Personalize
resources through the emulator's API, which refuses what is still in use; roles and policies
leave the access model. A KMS key is kept (CloudFormation only schedules its deletion).
A delete handler returns the virtual time the delete completes at (None: at once).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import ClientError

from tests.emulator import cfn_iam, cfn_states, cfn_wait
from tests.emulator.access import AWS_MANAGED_S3_KEY
from tests.emulator.cfn_types import Create, Delete, Deployed, ResourceFailure, Site, Update
from tests.emulator.world import default_key_policy

BUCKET_DEPLOYMENT = "Custom::CDKBucketDeployment"
AUTO_DELETE_OBJECTS = "Custom::S3AutoDeleteObjects"
PERSONALIZE_TYPES = frozenset(
    {"AWS::Personalize::DatasetGroup", "AWS::Personalize::Schema", "AWS::Personalize::Dataset"}
)


def _failure(error: ClientError) -> ResourceFailure:
    detail = error.response.get("Error", {})
    return ResourceFailure(f"{detail.get('Code')}: {detail.get('Message')}")


def _fail_on_client_error(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except ClientError as error:
        raise _failure(error) from error


# -- S3 -----------------------------------------------------------------------------------------------
def _bucket_key(props: Mapping[str, Any]) -> str | None:
    rules = (props.get("BucketEncryption") or {}).get("ServerSideEncryptionConfiguration") or []
    for rule in rules:
        default = rule.get("ServerSideEncryptionByDefault") or {}
        if str(default.get("SSEAlgorithm", "")).startswith("aws:kms"):
            return str(default.get("KMSMasterKeyID") or AWS_MANAGED_S3_KEY)
    return None


def _create_bucket(site: Site, logical_id: str, props: dict[str, Any]) -> Deployed:
    name = props.get("BucketName") or site.physical_name(logical_id, 63, lower=True)
    world, region = site.world, site.world.region
    _fail_on_client_error(lambda: world.bucket(name, permissive=False))
    world.access.set_bucket_key(name, _bucket_key(props))
    attributes = {
        "Arn": f"arn:aws:s3:::{name}",
        "DomainName": f"{name}.s3.amazonaws.com",
        "RegionalDomainName": f"{name}.s3.{region}.amazonaws.com",
        "DualStackDomainName": f"{name}.s3.dualstack.{region}.amazonaws.com",
        "WebsiteURL": f"http://{name}.s3-website-{region}.amazonaws.com",
    }
    return Deployed("AWS::S3::Bucket", name, attributes, props)


def _update_bucket(site: Site, logical_id: str, old: Deployed, props: dict[str, Any]) -> Deployed:
    if props.get("BucketName", old.physical_id) != old.physical_id:
        raise NotImplementedError(f"{logical_id}: renaming a bucket (a replacement) is not emulated")
    site.world.access.set_bucket_key(old.physical_id, _bucket_key(props))
    return Deployed(old.resource_type, old.physical_id, old.attributes, props)


def _delete_bucket(site: Site, old: Deployed) -> None:
    world = site.world
    _fail_on_client_error(lambda: world.s3.delete_bucket(Bucket=old.physical_id))
    world.access.delete_bucket_policy(old.physical_id)  # S3 deletes a bucket's policy with it
    world.access.set_bucket_key(old.physical_id, None)


def _empty(site: Site, bucket: str, prefix: str = "") -> None:
    s3 = site.world.s3
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            s3.delete_object(Bucket=bucket, Key=item["Key"])


def _auto_delete_objects(site: Site, old: Deployed) -> None:
    # CDK's auto-delete handler empties the bucket on Delete; it Refs the bucket, so it goes first.
    _empty(site, old.properties["BucketName"])


def _put_bucket_policy(site: Site, logical_id: str, props: dict[str, Any]) -> Deployed:
    site.world.access.put_bucket_policy(props["Bucket"], props["PolicyDocument"])
    return Deployed("AWS::S3::BucketPolicy", site.physical_name(logical_id, 128), {}, props)


def _update_bucket_policy(site: Site, logical_id: str, old: Deployed, props: dict[str, Any]) -> Deployed:
    if old.properties["Bucket"] != props["Bucket"]:
        site.world.access.delete_bucket_policy(old.properties["Bucket"])
    site.world.access.put_bucket_policy(props["Bucket"], props["PolicyDocument"])
    return Deployed(old.resource_type, old.physical_id, {}, props)


def _delete_bucket_policy(site: Site, old: Deployed) -> None:
    site.world.access.delete_bucket_policy(old.properties["Bucket"])


def _bucket_deployment(site: Site, logical_id: str, props: dict[str, Any]) -> Deployed:
    # BucketDeployment unzips each source asset under the prefix; the staged directory is that content.
    world, prefix, bucket = site.world, props.get("DestinationBucketKeyPrefix") or "", props["DestinationBucketName"]
    if props.get("Prune", True) in (True, "true"):
        for item in world.s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", []):
            world.s3.delete_object(Bucket=bucket, Key=item["Key"])
    for key in props["SourceObjectKeys"]:
        source = site.asset_source(key)
        for path in sorted(p for p in source.rglob("*") if p.is_file()):
            world.put_object(bucket, prefix + path.relative_to(source).as_posix(), path.read_bytes())
    return Deployed(BUCKET_DEPLOYMENT, f"aws.cdk.s3deployment.{uuid.uuid4()}", {}, props)


def _redeploy(site: Site, logical_id: str, old: Deployed, props: dict[str, Any]) -> Deployed:
    # Uploaded again on every update: unchanged data is the same objects, changed data replaces them.
    return Deployed(BUCKET_DEPLOYMENT, old.physical_id, {}, _bucket_deployment(site, logical_id, props).properties)


def _undeploy(site: Site, old: Deployed) -> None:
    # CDK's BucketDeployment keeps what it uploaded (retainOnDelete defaults to true).
    if str(old.properties.get("RetainOnDelete", "true")).lower() == "false":
        _empty(site, old.properties["DestinationBucketName"], old.properties.get("DestinationBucketKeyPrefix") or "")


# -- KMS ----------------------------------------------------------------------------------------------
def _create_key(site: Site, logical_id: str, props: dict[str, Any]) -> Deployed:
    key_id = str(uuid.uuid4())
    arn = f"arn:aws:kms:{site.world.region}:{site.world.account}:key/{key_id}"
    # Without a KeyPolicy KMS applies its default (the account root may do everything).
    site.world.access.put_key_policy(arn, props.get("KeyPolicy") or default_key_policy())
    return Deployed("AWS::KMS::Key", key_id, {"Arn": arn, "KeyId": key_id}, props)


def _update_key(site: Site, logical_id: str, old: Deployed, props: dict[str, Any]) -> Deployed:
    site.world.access.put_key_policy(old.attributes["Arn"], props.get("KeyPolicy") or default_key_policy())
    return Deployed(old.resource_type, old.physical_id, old.attributes, props)


# -- Personalize (through the emulator's API, as CloudFormation's resource handlers call it) -----------
def _create_personalize(resource_type: str) -> Create:
    def create(site: Site, logical_id: str, props: dict[str, Any]) -> Deployed:
        world, client = site.world, site.world.personalize()
        now = world.clock()
        if resource_type == "AWS::Personalize::DatasetGroup":
            arn = _fail_on_client_error(lambda: client.create_dataset_group(name=props["Name"])["datasetGroupArn"])
            # CloudFormation reports the group created once it is ACTIVE: datasets can be added then.
            ready = now + world.emulator.dataset_group_seconds
            return Deployed(resource_type, arn, {"DatasetGroupArn": arn}, props, ready_at=ready)
        if resource_type == "AWS::Personalize::Schema":
            create_schema = client.create_schema
            arn = _fail_on_client_error(lambda: create_schema(name=props["Name"], schema=props["Schema"])["schemaArn"])
            return Deployed(resource_type, arn, {"SchemaArn": arn}, props)
        if "DatasetImportJob" in props:
            raise NotImplementedError(f"{logical_id}: AWS::Personalize::Dataset's own DatasetImportJob is not emulated")
        arn = _fail_on_client_error(
            lambda: client.create_dataset(
                name=props["Name"],
                schemaArn=props["SchemaArn"],
                datasetGroupArn=props["DatasetGroupArn"],
                datasetType=props["DatasetType"],
            )["datasetArn"]
        )
        ready = now + world.emulator.dataset_seconds
        return Deployed(resource_type, arn, {"DatasetArn": arn}, props, ready_at=ready)

    return create


def _update_personalize(site: Site, logical_id: str, old: Deployed, props: dict[str, Any]) -> Deployed:
    if props != old.properties:
        raise NotImplementedError(f"{logical_id}: replacing a {old.resource_type} is not emulated")
    return old


def _delete_personalize(site: Site, old: Deployed) -> float | None:
    world, client, arn = site.world, site.world.personalize(), old.physical_id
    calls: dict[str, Callable[[], object]] = {
        "AWS::Personalize::DatasetGroup": lambda: client.delete_dataset_group(datasetGroupArn=arn),
        "AWS::Personalize::Schema": lambda: client.delete_schema(schemaArn=arn),
        "AWS::Personalize::Dataset": lambda: client.delete_dataset(datasetArn=arn),
    }
    try:
        calls[old.resource_type]()
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return None  # already gone: CloudFormation counts that as deleted
        raise _failure(error) from error
    if old.resource_type == "AWS::Personalize::Schema":
        return None
    # CloudFormation reports a dataset (group) deleted once it is gone, so its group (schema) can go next.
    return world.clock() + world.emulator.delete_seconds


# -- everything else ---------------------------------------------------------------------------------
_ARN_FORMATS = {
    # type: (Ref is the ARN?, ARN format)
    "AWS::Lambda::LayerVersion": (True, "arn:aws:lambda:{region}:{account}:layer:{name}:1"),
    "AWS::Logs::LogGroup": (False, "arn:aws:logs:{region}:{account}:log-group:{name}:*"),
}


def _create_generic(resource_type: str) -> Create:
    def create(site: Site, logical_id: str, props: dict[str, Any]) -> Deployed:
        name = site.physical_name(logical_id, 64)
        ref_is_arn, arn_format = _ARN_FORMATS.get(resource_type, (False, ""))
        arn = arn_format.format(region=site.world.region, account=site.world.account, name=name)
        attributes = {"Arn": arn, "Name": name} if arn else {}
        return Deployed(resource_type, arn if ref_is_arn else name, attributes, props, generic=True)

    return create


def generic_attribute(site: Site, deployed: Deployed, attribute: str) -> str:
    """A made-up Fn::GetAtt value of a resource type not emulated: ARN-shaped for "...Arn" attributes."""
    if attribute.endswith("Arn"):
        service, kind = (part.lower() for part in deployed.resource_type.split("::")[1:3])
        world = site.world
        return f"arn:aws:{service}:{world.region}:{world.account}:{kind}/{deployed.physical_id}"
    return f"{deployed.physical_id}.{attribute}"


def _same(site: Site, logical_id: str, old: Deployed, props: dict[str, Any]) -> Deployed:
    return Deployed(old.resource_type, old.physical_id, old.attributes, props, old.generic)


def _keep(site: Site, old: Deployed) -> None:
    pass


HANDLERS: dict[str, tuple[Create, Update, Delete]] = {
    "AWS::S3::Bucket": (_create_bucket, _update_bucket, _delete_bucket),
    "AWS::S3::BucketPolicy": (_put_bucket_policy, _update_bucket_policy, _delete_bucket_policy),
    BUCKET_DEPLOYMENT: (_bucket_deployment, _redeploy, _undeploy),
    AUTO_DELETE_OBJECTS: (_create_generic(AUTO_DELETE_OBJECTS), _same, _auto_delete_objects),
    "AWS::KMS::Key": (_create_key, _update_key, _keep),
    "AWS::IAM::Role": (cfn_iam.create_role, cfn_iam.update_role, cfn_iam.delete_role),
    "AWS::IAM::Policy": (cfn_iam.put_policy, cfn_iam.update_policy, cfn_iam.delete_policy),
    "AWS::IAM::ManagedPolicy": (
        cfn_iam.create_managed_policy,
        cfn_iam.update_managed_policy,
        cfn_iam.delete_managed_policy,
    ),
    **{kind: (_create_personalize(kind), _update_personalize, _delete_personalize) for kind in PERSONALIZE_TYPES},
    cfn_states.FUNCTION: (cfn_states.create_function, cfn_states.update_function, cfn_states.delete_function),
    cfn_states.STATE_MACHINE: (
        cfn_states.create_state_machine,
        cfn_states.update_state_machine,
        cfn_states.delete_state_machine,
    ),
    cfn_wait.HANDLE: (cfn_wait.create_handle, cfn_wait.update_handle, cfn_wait.delete_handle),
    cfn_wait.WAIT_CONDITION: (
        cfn_wait.create_wait_condition,
        cfn_wait.update_wait_condition,
        cfn_wait.delete_wait_condition,
    ),
}


def handlers(resource_type: str) -> tuple[Create, Update, Delete]:
    return HANDLERS.get(resource_type) or (_create_generic(resource_type), _same, _keep)
