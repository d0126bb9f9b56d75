"""The S3 side of an import: the bucket Personalize reads and the access it needs there."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

PERSONALIZE = "personalize.amazonaws.com"


def create_data_bucket(
    scope: Construct,
    *,
    removal_policy: RemovalPolicy,
    encryption_key: kms.IKey | None,
    server_access_logs_bucket: s3.IBucket | None,
) -> s3.Bucket:
    """A private, encrypted, TLS-only bucket with server access logs."""
    destroy = removal_policy == RemovalPolicy.DESTROY
    if server_access_logs_bucket is None:
        logs_bucket = s3.Bucket(
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
        server_access_logs_bucket = logs_bucket
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


def allow_personalize_to_read(bucket: s3.IBucket) -> None:
    """The bucket policy Personalize documents: no condition keys, which the service may not send."""
    bucket.add_to_resource_policy(
        iam.PolicyStatement(
            sid="PersonalizeReadTrainingData",
            principals=[iam.ServicePrincipal(PERSONALIZE)],
            actions=["s3:GetObject", "s3:ListBucket"],
            resources=[bucket.bucket_arn, bucket.arn_for_objects("*")],
        )
    )


def allow_key_use(key: kms.IKey, role: iam.IRole) -> None:
    """Let Personalize and the import role decrypt data under a customer managed key."""
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="PersonalizeUseKeyForTrainingData",
            principals=[iam.ServicePrincipal(PERSONALIZE)],
            actions=["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
            resources=["*"],  # in a key policy "*" means this key
        )
    )
    key.grant(role, "kms:Decrypt", "kms:DescribeKey")
