"""Where a stack's imports keep their data and who may read it: bucket, read role, bucket and key policies.

All of it lives at the stack level, never under one import: a shared role, bucket or key policy that
named a resource of import ``b`` would turn ``b.node.add_dependency(a)`` into a circular template.
Each import adds grants for its own prefix only (docs/personalize.md, "Access", says what Personalize needs).
"""

from __future__ import annotations

import weakref

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_personalize.key_grants import PERSONALIZE, grant_key, same_stack

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
