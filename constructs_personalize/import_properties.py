"""The custom resource's properties (the handler's contract, ``contract.py``) and the checks before them."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Reference, Size, Tokenization
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3

from constructs_personalize import cdk_internals, validators
from constructs_personalize.handlers.dataset_import import contract as c
from constructs_personalize.schema import DatasetSchema


def validate(
    dataset_arn: str,
    *,
    job_name: str | None,
    role: iam.IRole | None,
    tags: Mapping[str, str] | None,
    schema: DatasetSchema | None,
) -> None:
    """Everything checkable before anything is built: nothing is created for options that cannot work."""
    validators.validate_dataset_arn(dataset_arn)
    if job_name is not None:
        validators.validate_job_name(job_name)
    if role is not None:
        validators.validate_role_arn(role.role_arn)
    validators.validate_tags(tags or {})
    if schema is not None:
        validators.validate_schema_matches_dataset(schema.dataset_type.value, dataset_arn)


def job_properties(
    *,
    dataset_arn: str,
    role_arn: str,
    data_location: str,
    import_mode: str,
    publish_attribution_metrics_to_s3: bool | None,
    tags: Mapping[str, str] | None,
    job_name: str | None,
    job_name_prefix: str,
    data_version: str,
) -> dict[str, object]:
    """What the job imports and how it is named (the wait's properties are added by the import)."""
    properties: dict[str, object] = {
        c.DATASET_ARN: dataset_arn,
        c.ROLE_ARN: role_arn,
        c.DATA_LOCATION: data_location,
        c.IMPORT_MODE: import_mode,
    }
    if publish_attribution_metrics_to_s3 is not None:
        properties[c.PUBLISH_ATTRIBUTION] = "true" if publish_attribution_metrics_to_s3 else "false"
    if tags:
        properties[c.TAGS] = [{"Key": k, "Value": tags[k]} for k in sorted(tags)]
    if job_name is not None:
        properties[c.JOB_NAME] = job_name
    else:
        # The handler derives the name from these and the deployed stack's unique StackId.
        properties[c.JOB_NAME_PREFIX] = job_name_prefix
    if data_version:
        # Part of a derived name; under an explicit name, a change of it is refused (the name is taken).
        properties[c.DATA_VERSION] = data_version
    return properties


def bucket_named(name: str) -> s3.Bucket | None:
    """The app's own bucket behind ``f"s3://{bucket.bucket_name}/..."``, so its policy gets the grant."""
    if not validators.is_token(name):
        return None
    token = Tokenization.reverse_string(name).first_token
    if not isinstance(token, Reference) or not isinstance(token.target, s3.CfnBucket):
        return None
    bucket = cdk_internals.bucket_of_resource(token.target)
    return bucket if bucket is not None and bucket.bucket_name == name else None


def key_pattern(key: str | None) -> str:
    """The objects a location covers: a folder's first level (and below), one file, or the whole bucket."""
    if key is None or key == "":
        return "*"
    return f"{key}*" if key.endswith("/") else key


def mebibytes(size: Size | None) -> int | None:
    return None if size is None else int(size.to_mebibytes())
