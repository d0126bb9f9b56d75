"""Where a stack's imports keep their data and who may read it: bucket, read role, bucket and key policies.

All of it lives at the stack level, never under one import: a shared role, bucket or key policy that
named a resource of import ``b`` would turn ``b.node.add_dependency(a)`` into a circular template.
Each import adds grants for its own prefix only (docs/personalize.md, "Access", says what Personalize needs).
"""

from __future__ import annotations

import hashlib
import json

from aws_cdk import Annotations, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct, IDependable

from constructs_personalize.nag import acknowledge_at_synth

PERSONALIZE = "personalize.amazonaws.com"
STORE_ID = "ConstructsPersonalizeDataStore"
READ_ROLE_ID = "ConstructsPersonalizeImportRole"
# AWS's key-policy statement for dataset import jobs: these five actions, for the role and the service.
KMS_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey", "kms:CreateGrant", "kms:ListGrants")
# What the role itself needs to read objects encrypted under the key (no new data keys for reading).
KMS_READ_ACTIONS = ("kms:Decrypt", "kms:DescribeKey")


def stack_bucket(
    scope: Construct,
    *,
    encryption_key: kms.IKey | None,
    server_access_logs_bucket: s3.IBucket | None,
    removal_policy: RemovalPolicy | None,
) -> s3.Bucket:
    """The stack's data bucket for these settings: imports with the same settings share one bucket."""
    stack = Stack.of(scope)
    policy = removal_policy or RemovalPolicy.RETAIN
    settings = [
        encryption_key.node.addr if encryption_key else "",
        server_access_logs_bucket.node.addr if server_access_logs_bucket else "",
        "" if policy == RemovalPolicy.RETAIN else str(policy),
    ]
    store_id = STORE_ID if not any(settings) else f"{STORE_ID}{_digest(settings)}"
    existing = stack.node.try_find_child(store_id)
    if existing is not None:
        bucket = existing.node.find_child("DataBucket")
        assert isinstance(bucket, s3.Bucket)
        return bucket
    return _create_bucket(
        Construct(stack, store_id),
        removal_policy=policy,
        encryption_key=encryption_key,
        server_access_logs_bucket=server_access_logs_bucket,
    )


def stack_read_role(scope: Construct) -> iam.Role:
    """The role Personalize assumes to read the stack's training data, created with the first import."""
    stack = Stack.of(scope)
    existing = stack.node.try_find_child(READ_ROLE_ID)
    if isinstance(existing, iam.Role):
        return existing
    # Confused-deputy protection: only Personalize acting for this account and region may assume it.
    principal = iam.ServicePrincipal(
        PERSONALIZE,
        conditions={
            "StringEquals": {"aws:SourceAccount": stack.account},
            "ArnLike": {"aws:SourceArn": f"arn:{stack.partition}:personalize:{stack.region}:{stack.account}:*"},
        },
    )
    return iam.Role(
        stack,
        READ_ROLE_ID,
        assumed_by=principal,
        description="Lets Amazon Personalize read the training data of this stack's DatasetImports",
    )


def grant_read(imp: Construct, bucket: s3.IBucket, key_pattern: str, role: iam.IRole) -> list[IDependable]:
    """Let Personalize (as ``role`` and as the service) read ``key_pattern`` in ``bucket``.

    Returns what the import must wait for. What this stack cannot change (an imported bucket or key)
    gets a synth warning that shows the statement to add.
    """
    objects = bucket.arn_for_objects(key_pattern)
    waits: list[IDependable] = []
    for statement in (
        iam.PolicyStatement(actions=["s3:GetObject"], resources=[objects]),
        iam.PolicyStatement(actions=["s3:ListBucket"], resources=[bucket.bucket_arn]),
    ):
        result = role.add_to_principal_policy(statement)
        if result.policy_dependable is not None:
            waits.append(result.policy_dependable)
    if "*" in key_pattern:
        # On the role: its DefaultPolicy, or the Policy CDK attaches to an imported mutable role.
        acknowledge_at_synth(
            role,
            "AwsSolutions-IAM5",
            lambda: [objects],
            "Personalize imports every CSV at the data location's prefix; the role reads only that prefix.",
        )

    # Personalize's documented bucket policy has no condition keys (the service may not send them);
    # it is scoped to this import's objects, so on a shared bucket it opens nothing else.
    service = iam.PolicyStatement(
        principals=[iam.ServicePrincipal(PERSONALIZE)],
        actions=["s3:GetObject", "s3:ListBucket"],
        resources=[bucket.bucket_arn, objects],
    )
    if bucket.add_to_resource_policy(service).statement_added:
        if isinstance(bucket, s3.Bucket) and bucket.policy is not None:
            waits.append(bucket.policy)
    else:
        _cannot_change(imp, "bucket policy", "the bucket", service)

    key = bucket.encryption_key
    if key is not None:
        waits += _grant_key(imp, key, role)
    return waits


def _grant_key(imp: Construct, key: kms.IKey, role: iam.IRole) -> list[IDependable]:
    # For an import job only the key policy counts, naming both the role and the service.
    statement = iam.PolicyStatement(
        sid="PersonalizeDatasetImportUseOfTheKey",
        principals=[iam.ServicePrincipal(PERSONALIZE), iam.ArnPrincipal(role.role_arn)],
        actions=list(KMS_ACTIONS),
        resources=["*"],  # in a key policy "*" means this key
    )
    # A key in another stack must not name this stack's role: that stack would then depend on this one.
    same_stack = Stack.of(key) is Stack.of(imp) or Stack.of(key).node.path == Stack.of(imp).node.path
    if not (same_stack and key.add_to_resource_policy(statement).statement_added):
        _cannot_change(imp, "key policy", "the KMS key", statement)
        return []
    role.add_to_principal_policy(iam.PolicyStatement(actions=list(KMS_READ_ACTIONS), resources=[key.key_arn]))
    return [key]


def _cannot_change(imp: Construct, what: str, owner: str, statement: iam.PolicyStatement) -> None:
    rendered = json.dumps(_readable(Stack.of(imp).resolve(statement.to_statement_json())), sort_keys=True)
    Annotations.of(imp).add_warning_v2(
        f"constructs_personalize:{what.replace(' ', '-')}",
        f"{owner} is not managed by this stack, so its {what} cannot be changed here: make sure it holds "
        f"this statement, or the import job fails with 'Insufficient privileges': {rendered}",
    )


def _readable(value: object) -> object:
    """A resolved policy with references written as ``${AWS::Partition}`` / ``${Key.Arn}``, for people."""
    if isinstance(value, list):
        return [_readable(item) for item in value]
    if not isinstance(value, dict):
        return value
    if "Ref" in value and len(value) == 1:
        return f"${{{value['Ref']}}}"
    if "Fn::GetAtt" in value and len(value) == 1:
        return "${" + ".".join(map(str, value["Fn::GetAtt"])) + "}"
    if "Fn::Join" in value and len(value) == 1:
        delimiter, parts = value["Fn::Join"]
        return str(delimiter).join(str(_readable(part)) for part in parts)
    return {key: _readable(item) for key, item in value.items()}


def _create_bucket(
    scope: Construct,
    *,
    removal_policy: RemovalPolicy,
    encryption_key: kms.IKey | None,
    server_access_logs_bucket: s3.IBucket | None,
) -> s3.Bucket:
    """A private, encrypted, TLS-only bucket with server access logs."""
    destroy = removal_policy == RemovalPolicy.DESTROY
    if server_access_logs_bucket is None:
        server_access_logs_bucket = s3.Bucket(
            scope,
            "AccessLogsBucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            # S3 server access logging delivers only to SSE-S3 buckets.
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            # No object_ownership here: depending on the app's @aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy
            # flag, CDK grants log delivery by bucket policy or by the ACL that needs ObjectWriter.
            removal_policy=removal_policy,
            auto_delete_objects=destroy,
        )
    return s3.Bucket(
        scope,
        "DataBucket",
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        encryption=s3.BucketEncryption.KMS if encryption_key else s3.BucketEncryption.S3_MANAGED,
        encryption_key=encryption_key,
        bucket_key_enabled=encryption_key is not None,
        enforce_ssl=True,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        server_access_logs_bucket=server_access_logs_bucket,
        server_access_logs_prefix="data-bucket/",
        removal_policy=removal_policy,
        # A non-empty bucket cannot be deleted: without this a DESTROY stack would stick in DELETE_FAILED.
        auto_delete_objects=destroy,
    )


def _digest(parts: list[str]) -> str:
    return hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()[:8].upper()
