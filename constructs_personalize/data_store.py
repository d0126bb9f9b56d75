"""Where a stack's imports keep their data and who may read it: bucket, read role, bucket and key policies.

All of it lives at the stack level, never under one import: a shared role, bucket or key policy that
named a resource of import ``b`` would turn ``b.node.add_dependency(a)`` into a circular template.
Each import adds grants for its own prefix only (docs/personalize.md, "Access", says what Personalize needs).
"""

from __future__ import annotations

import json
import weakref
from dataclasses import dataclass, field

from aws_cdk import Annotations, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct, IDependable

from constructs_personalize import limits
from constructs_personalize.key_grants import PERSONALIZE, grant_key, same_stack
from constructs_personalize.nag import acknowledge_at_synth

STORE_ID = "ConstructsPersonalizeDataStore"


# Every BucketDeployment tags its destination bucket once (aws-cdk:cr-owned:<prefix>:<hash>) and a
# bucket takes 50 tags: 40 uploads leave room for the bucket's own tags.
MAX_UPLOADS_PER_BUCKET = 40


class DataStore(Construct):
    """Where imports keep their training data: one bucket, its access logs, and the role Personalize reads with.

    By default every ``DatasetImport`` of a stack shares the stack's store (``DataStore.of(stack)``), each
    under its own prefix, with the role's read access, the bucket policy and the key policy scoped per
    prefix. Create one explicitly to share it across imports (or stacks), to bring a bucket of your own
    (a data lake), or to encrypt with a customer managed KMS key, and pass it as ``store=``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        bucket: s3.IBucket | None = None,
        encryption_key: kms.IKey | None = None,
        server_access_logs_bucket: s3.IBucket | None = None,
        removal_policy: RemovalPolicy | None = None,
        role: iam.IRole | None = None,
    ) -> None:
        """
        :param bucket: A bucket of your own to upload into (a data lake). If this app manages it, its bucket
            policy gets Personalize's read statement per prefix; otherwise the synth warns with the statement
            to add. Default: - a private, encrypted, TLS-only bucket with server access logs is created
        :param encryption_key: Customer managed KMS key of the created bucket. A key of the store's own
            stack gets AWS's key-policy statement for dataset import jobs (the store's role and the service);
            for any other key the synth warns with that statement. Default: - S3-managed encryption
        :param server_access_logs_bucket: Where the created bucket writes its access logs.
            Default: - a logs bucket is created beside it
        :param removal_policy: What happens to the created buckets when the stack deletes them; with DESTROY
            their objects are emptied first. Default: - RemovalPolicy.RETAIN
        :param role: The role Personalize assumes to read the store's data.
            Default: - a role trusting personalize.amazonaws.com for this account and region only
        """
        super().__init__(scope, id)
        if bucket is not None:
            for name, value in (
                ("encryption_key", encryption_key),
                ("server_access_logs_bucket", server_access_logs_bucket),
                ("removal_policy", removal_policy),
            ):
                if value is not None:
                    raise ValueError(
                        f"DataStore {self.node.path!r}: {name} configures the bucket the store creates, but bucket= "
                        "gives one of your own: configure that bucket itself, or drop bucket="
                    )
        self._bucket = bucket
        self._role = role
        self._settings = (encryption_key, server_access_logs_bucket, removal_policy or RemovalPolicy.RETAIN)
        self._uploads: list[str] = []

    @classmethod
    def of(cls, scope: Construct) -> DataStore:
        """The stack's default store, created with the first import that needs it."""
        return cls.of_stack(Stack.of(scope))

    @classmethod
    def of_stack(cls, stack: Stack) -> DataStore:
        existing = _DEFAULT_STORES.get(stack)
        if existing is None:
            found = stack.node.try_find_child(STORE_ID)
            existing = found if isinstance(found, DataStore) else cls(stack, STORE_ID)
            _DEFAULT_STORES[stack] = existing
        return existing

    @property
    def bucket(self) -> s3.IBucket:
        """The bucket the imports' local data is uploaded to (created on first use unless given)."""
        if self._bucket is None:
            key, logs, removal = self._settings
            self._bucket = _create_bucket(
                self, removal_policy=removal, encryption_key=key, server_access_logs_bucket=logs
            )
            if key is not None and same_stack(key, self):
                # Here, in the key's stack, whichever stack imports: a key policy that named the role
                # from an importing stack would make the key's stack depend on that one.
                grant_key(self, key, self.role, warn=False)
        return self._bucket

    @property
    def role(self) -> iam.IRole:
        """The role Personalize assumes to read the store's data (created on first use unless given)."""
        if self._role is None:
            self._role = _read_role(self)
        return self._role

    def add_upload(self, requested_by: str) -> None:
        """Count one more upload into the bucket; refuse the one that would exceed the bucket's tags."""
        if len(self._uploads) >= MAX_UPLOADS_PER_BUCKET:
            raise ValueError(
                f"{requested_by} would be upload number {len(self._uploads) + 1} into the bucket of DataStore "
                f"{self.node.path!r}: every upload tags the bucket and S3 allows 50 tags, so a store takes at most "
                f"{MAX_UPLOADS_PER_BUCKET} uploads. Give further imports another DataStore (store=DataStore(...))"
            )
        self._uploads.append(requested_by)


# Each stack's default store, found without a walk of the construct tree (each lookup is a jsii call).
_DEFAULT_STORES: weakref.WeakKeyDictionary[Stack, DataStore] = weakref.WeakKeyDictionary()


def _read_role(scope: Construct) -> iam.Role:
    stack = Stack.of(scope)
    # Confused-deputy protection: only Personalize acting for this account and region may assume it.
    principal = iam.ServicePrincipal(
        PERSONALIZE,
        conditions={
            "StringEquals": {"aws:SourceAccount": stack.account},
            "ArnLike": {"aws:SourceArn": f"arn:{stack.partition}:personalize:{stack.region}:{stack.account}:*"},
        },
    )
    return iam.Role(
        scope,
        "ImportRole",
        assumed_by=principal,
        description="Lets Amazon Personalize read the training data of this data store's imports",
    )


@dataclass
class _BucketGrants:
    """The statements one role and Personalize hold on one bucket; each import adds its objects to them."""

    role_read: iam.PolicyStatement
    service_read: iam.PolicyStatement
    service_added: bool
    role_added: bool
    waits: list[IDependable]
    wildcards: list[str] = field(default_factory=list)


class ReadGrants:
    """The read grants of a stack's imports: one set of statements per (role, bucket), built once.

    Every import adds only its objects (``add_resources``) to the same statements, so the role's policy
    and the bucket policy grow by one resource per import, not by whole statements (a key policy not at all);
    ``limits.py`` refuses the import that would take the role's or the bucket's policy past its size limit.
    """

    def __init__(self) -> None:
        self._grants: dict[tuple[str, str], _BucketGrants] = {}

    def grant(self, imp: Construct, bucket: s3.IBucket, key_pattern: str, role: iam.IRole) -> list[IDependable]:
        """Let Personalize (as ``role`` and as the service) read ``key_pattern`` in ``bucket``.

        Returns what the import must wait for. What this stack cannot change (an imported bucket or key)
        gets a synth warning that shows the statement to add.
        """
        objects = bucket.arn_for_objects(key_pattern)
        pair = (role.node.path, bucket.node.path)
        grants = self._grants.get(pair)
        first = grants is None
        if grants is None:
            grants = self._grants[pair] = self._first_grant(imp, bucket, objects, role)
        else:
            grants.role_read.add_resources(objects)
            if grants.service_added:
                grants.service_read.add_resources(objects)
        limits.PolicyBudget.of(imp).charge_read(
            role if grants.role_added else None,
            bucket if grants.service_added else None,
            key_pattern,
            imp.node.path,
            source=bucket,
            first=first,
        )
        if not grants.service_added:
            _cannot_change(imp, "bucket policy", "the bucket", _service_read(bucket, objects))
        if "*" in key_pattern:
            grants.wildcards.append(objects)
        return grants.waits

    def _first_grant(self, imp: Construct, bucket: s3.IBucket, objects: str, role: iam.IRole) -> _BucketGrants:
        role_read = iam.PolicyStatement(actions=["s3:GetObject"], resources=[objects])
        waits: list[IDependable] = []
        role_added = False
        for statement in (role_read, iam.PolicyStatement(actions=["s3:ListBucket"], resources=[bucket.bucket_arn])):
            result = role.add_to_principal_policy(statement)
            role_added = role_added or result.statement_added
            if result.policy_dependable is not None:
                waits.append(result.policy_dependable)
        service_read = _service_read(bucket, objects)
        added = bucket.add_to_resource_policy(service_read).statement_added
        if added and isinstance(bucket, s3.Bucket) and bucket.policy is not None:
            waits.append(bucket.policy)
        key = bucket.encryption_key
        if key is not None:
            waits += grant_key(imp, key, role)
        grants = _BucketGrants(role_read, service_read, added, role_added, waits)
        # On the role: its DefaultPolicy, or the Policy CDK attaches to an imported mutable role.
        acknowledge_at_synth(
            role,
            "AwsSolutions-IAM5",
            lambda: grants.wildcards,
            "Personalize imports every CSV at the data location's prefix; the role reads only the imports' prefixes.",
        )
        return grants


def _service_read(bucket: s3.IBucket, objects: str) -> iam.PolicyStatement:
    # Personalize's documented bucket policy has no condition keys (the service may not send them);
    # it is scoped to the imports' objects, so on a shared bucket it opens nothing else.
    return iam.PolicyStatement(
        principals=[iam.ServicePrincipal(PERSONALIZE)],
        actions=["s3:GetObject", "s3:ListBucket"],
        resources=[bucket.bucket_arn, objects],
    )


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
