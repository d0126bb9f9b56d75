"""What the emulated CloudFormation does for each resource type it knows (all but the import's custom resource).

Each type has a create, an update (a later deploy of the same logical id with resolved properties)
and a delete. They act on the emulated region: S3 buckets in moto, Personalize resources through
the emulator's API, and every policy into the access model (``access.py``), since policies decide
whether an import can read its data. Physical names follow CloudFormation's pattern
``<stack>-<logical id>-<random suffix>`` unless the template names the resource.

Types not listed here (Lambda functions, log groups, state machines, Personalize solutions ...)
are "generic": they complete when their dependencies have, with a physical id and ARN-shaped
attributes, so references to them resolve. Deleting keeps buckets, keys and Personalize resources
(as a Retain policy would), and removes roles and policies from the access model.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import ClientError

from tests.emulator import cfn_iam
from tests.emulator.access import AWS_MANAGED_S3_KEY
from tests.emulator.cfn_types import Create, Delete, Deployed, ResourceFailure, Site, Update
from tests.emulator.world import default_key_policy

BUCKET_DEPLOYMENT = "Custom::CDKBucketDeployment"
PERSONALIZE_TYPES = frozenset(
    {"AWS::Personalize::DatasetGroup", "AWS::Personalize::Schema", "AWS::Personalize::Dataset"}
)


def _fail_on_client_error(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except ClientError as error:
        detail = error.response.get("Error", {})
        raise ResourceFailure(f"{detail.get('Code')}: {detail.get('Message')}") from error


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


# -- everything else ---------------------------------------------------------------------------------
_ARN_FORMATS = {
    # type: (Ref is the ARN?, ARN format)
    "AWS::Lambda::Function": (False, "arn:aws:lambda:{region}:{account}:function:{name}"),
    "AWS::Lambda::LayerVersion": (True, "arn:aws:lambda:{region}:{account}:layer:{name}:1"),
    "AWS::Logs::LogGroup": (False, "arn:aws:logs:{region}:{account}:log-group:{name}:*"),
    "AWS::StepFunctions::StateMachine": (True, "arn:aws:states:{region}:{account}:stateMachine:{name}"),
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
    "AWS::S3::Bucket": (_create_bucket, _update_bucket, _keep),
    "AWS::S3::BucketPolicy": (_put_bucket_policy, _update_bucket_policy, _delete_bucket_policy),
    BUCKET_DEPLOYMENT: (_bucket_deployment, _redeploy, _keep),
    "AWS::KMS::Key": (_create_key, _update_key, _keep),
    "AWS::IAM::Role": (cfn_iam.create_role, cfn_iam.update_role, cfn_iam.delete_role),
    "AWS::IAM::Policy": (cfn_iam.put_policy, cfn_iam.update_policy, cfn_iam.delete_policy),
    "AWS::IAM::ManagedPolicy": (
        cfn_iam.create_managed_policy,
        cfn_iam.update_managed_policy,
        cfn_iam.delete_managed_policy,
    ),
    **{kind: (_create_personalize(kind), _update_personalize, _keep) for kind in PERSONALIZE_TYPES},
}


def handlers(resource_type: str) -> tuple[Create, Update, Delete]:
    return HANDLERS.get(resource_type) or (_create_generic(resource_type), _same, _keep)
