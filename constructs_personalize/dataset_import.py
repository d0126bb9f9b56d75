"""``DatasetImport``: import training data into an Amazon Personalize dataset during ``cdk deploy``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Annotations, CustomResource, Duration, RemovalPolicy, Size
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3_deployment
from constructs import Construct, IDependable

from constructs_personalize import validators
from constructs_personalize.data_store import grant_read, stack_bucket, stack_read_role
from constructs_personalize.import_mode import ImportMode
from constructs_personalize.job_name import job_name_prefix
from constructs_personalize.preflight import DataSummary
from constructs_personalize.preflight.assets import check_sources
from constructs_personalize.provider import DatasetImportProvider
from constructs_personalize.schema import DatasetSchema
from constructs_personalize.uploads import bind_sources, upload

RESOURCE_TYPE = "Custom::PersonalizeDatasetImport"
DEFAULT_QUERY_INTERVAL = Duration.seconds(30)
DEFAULT_TOTAL_TIMEOUT = Duration.hours(1)


class DatasetImport(Construct):
    """Imports data into a Personalize dataset and completes only once the import job is ACTIVE.

    Depend on this construct (``solution.node.add_dependency(imp)``) to start work that needs
    the data: it completes after the job is ACTIVE, and fails the deployment with the job's
    ``failureReason`` when the job ends CREATE FAILED.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        dataset_arn: str,
        sources: Sequence[s3_deployment.ISource] | None = None,
        data_location: str | None = None,
        bucket: s3.IBucket | None = None,
        destination_key_prefix: str | None = None,
        role: iam.IRole | None = None,
        encryption_key: kms.IKey | None = None,
        server_access_logs_bucket: s3.IBucket | None = None,
        removal_policy: RemovalPolicy | None = None,
        import_mode: ImportMode = ImportMode.FULL,
        publish_attribution_metrics_to_s3: bool | None = None,
        tags: Mapping[str, str] | None = None,
        job_name: str | None = None,
        query_interval: Duration | None = None,
        total_timeout: Duration | None = None,
        schema: DatasetSchema | None = None,
        validate_data: bool = True,
        upload_memory_limit: int | None = None,
        upload_ephemeral_storage_size: Size | None = None,
    ) -> None:
        """
        :param dataset_arn: ARN of the Personalize dataset that receives the data.
        :param sources: Local folders of the CDK app (``Source.asset(...)``), uploaded into the bucket by
            ``BucketDeployment`` before the import starts. A folder must hold CSV files at its first level and
            nothing else (Personalize imports only the first level; the synth fails otherwise).
            Default: - none; give either ``sources`` or ``data_location``.
        :param data_location: ``s3://bucket/key`` of one CSV, or ``s3://bucket/prefix/`` (the CSVs at the
            first level of that folder), of data already in S3; the bucket may be a token
            (``f"s3://{bucket.bucket_name}/events/"``). Default: - none; give either ``sources`` or ``data_location``.
        :param bucket: An existing bucket holding (or receiving) the data. If it is defined in this app,
            the Personalize bucket policy is added to it; if imported, it must already have that policy.
            Default: - the stack's data bucket (private, encrypted, TLS-only, with server access logs), shared by
            the imports of the stack with the same bucket settings; with ``data_location``, the bucket it names
        :param destination_key_prefix: Key prefix (ending in ``/``) that ``sources`` are uploaded to.
            Default: - ``<id>-<8 hex chars of the construct address>/``
        :param role: Role Personalize assumes to read the data. It is granted read access to the data
            location. Default: - the stack's import role, trusting personalize.amazonaws.com for this account and
            region only, with read access to each import's prefix
        :param encryption_key: KMS key for a created bucket; its key policy gets AWS's statement for dataset import
            jobs. Default: - S3-managed encryption
        :param server_access_logs_bucket: Where a created bucket writes its access logs.
            Default: - a logs bucket is created beside it
        :param removal_policy: What happens to a created bucket (and its logs bucket) when the stack deletes it;
            with DESTROY the objects are emptied first. Default: - RemovalPolicy.RETAIN
        :param import_mode: FULL replaces the dataset's bulk data; INCREMENTAL appends. Default: - ImportMode.FULL
        :param publish_attribution_metrics_to_s3: Publish metric attribution metrics to S3.
            Default: - not set (the service default)
        :param tags: Tags of the import job. Default: - no tags
        :param job_name: Name of the import job (1-63 chars, ``^[a-zA-Z0-9][a-zA-Z0-9\\-_]*$``). Job names are
            permanent: a changed input with the same name fails the deployment.
            Default: - derived from the construct path and a hash of every input, local data included
        :param query_interval: How often the deployment checks the job. Default: - 30 seconds
        :param total_timeout: How long the deployment waits for the job, at most 1 hour and a whole multiple of
            ``query_interval``. All imports in a stack share these two values. Default: - 1 hour
        :param schema: The dataset's ``DatasetSchema``. With local ``sources`` every CSV is checked against it at
            synth (header, types, timestamps, lengths, training minimums), and a bad file fails the synth.
            Default: - no pre-flight check
        :param validate_data: Set to False to skip the pre-flight check of the data (for data you know is right).
            Default: - True
        :param upload_memory_limit: Memory (MiB) of the function that uploads local ``sources``.
            Default: - 1,024 MiB, or 2,048 MiB for more than about 1 GB of data
        :param upload_ephemeral_storage_size: ``/tmp`` of the function that uploads local ``sources``; it must hold
            the zip and the extracted data side by side. Default: - sized from the local data at synth
            (512 MiB to 10 GiB); data larger than 10 GiB of storage can carry fails the synth
        """
        super().__init__(scope, id)
        query_interval = query_interval or DEFAULT_QUERY_INTERVAL
        total_timeout = total_timeout or DEFAULT_TOTAL_TIMEOUT
        mode = ImportMode(import_mode).value
        # Validate first, build second: nothing is created for props that cannot work.
        _check_combinations(
            sources=sources,
            data_location=data_location,
            bucket=bucket,
            destination_key_prefix=destination_key_prefix,
            encryption_key=encryption_key,
            server_access_logs_bucket=server_access_logs_bucket,
            removal_policy=removal_policy,
        )
        _validate(
            dataset_arn,
            job_name=job_name,
            role=role,
            tags=tags,
            query_interval=query_interval,
            total_timeout=total_timeout,
            schema=schema,
        )
        data_key = destination_key_prefix or _default_prefix(self)
        if sources is not None:
            validators.validate_key_prefix(data_key)
        location = validators.split_data_location(data_location) if data_location is not None else None

        provider = DatasetImportProvider.of_stack(
            self, query_interval=query_interval, total_timeout=total_timeout, requested_by=self.node.path
        )
        self.role: iam.IRole = role or stack_read_role(self)
        """The role Personalize assumes to read the data (shared by the stack's imports unless given)."""
        self.data_summary: DataSummary | None = None
        """What the pre-flight check found (files, records, users), or None when it did not run."""
        waits: list[IDependable] = []
        data_version = ""
        if sources is not None:
            bound = bind_sources(self, sources, provider)
            data_version = bound.data_version
            if schema is not None and validate_data:
                self.data_summary = check_sources(self, bound, schema, mode)
            self.bucket: s3.IBucket = bucket or stack_bucket(
                self,
                encryption_key=encryption_key,
                server_access_logs_bucket=server_access_logs_bucket,
                removal_policy=removal_policy,
            )
            """The bucket that holds the data."""
            waits.append(
                upload(
                    self,
                    bound,
                    bucket=self.bucket,
                    prefix=data_key,
                    provider=provider,
                    memory_limit_mib=upload_memory_limit,
                    ephemeral_storage_mib=_mebibytes(upload_ephemeral_storage_size),
                )
            )
            self.data_location = f"s3://{self.bucket.bucket_name}/{data_key}"
            """The ``s3://`` location the job imports."""
            key_pattern = f"{data_key}*"
        else:
            assert data_location is not None and location is not None  # _check_combinations
            self.bucket = self._location_bucket(data_location, location, bucket)
            self.data_location = data_location
            key_pattern = _key_pattern(location.key)
            if location.key is None:
                Annotations.of(self).add_warning_v2(
                    "constructs_personalize:wholeBucketScope",
                    f"the key of data_location {data_location!r} is only known at deploy time, so the role and "
                    "the bucket policy cover the whole bucket: write the key as a literal to scope them to it",
                )
        waits += grant_read(self, self.bucket, key_pattern, self.role)
        waits.append(provider.grant_import(self, self.role, dataset_arn))

        properties = _properties(
            dataset_arn=dataset_arn,
            role_arn=self.role.role_arn,
            data_location=self.data_location,
            import_mode=mode,
            publish_attribution_metrics_to_s3=publish_attribution_metrics_to_s3,
            tags=tags,
            job_name=job_name,
            job_name_prefix=job_name_prefix(self),
            data_version=data_version,
        )
        self.resource = CustomResource(
            self,
            "Resource",
            service_token=provider.service_token,
            service_timeout=provider.service_timeout,
            resource_type=RESOURCE_TYPE,
            properties=properties,
        )
        """The ``Custom::PersonalizeDatasetImport`` resource."""
        # The job must start only once the data, the read permissions and the handler's grant exist.
        self.resource.node.add_dependency(*waits)
        provider.order_import(self.resource, dataset_arn, mode)

    @property
    def job_name(self) -> str:
        """Name of the import job (from the custom resource)."""
        return self.resource.get_att_string("JobName")

    @property
    def job_arn(self) -> str:
        """ARN of the import job (from the custom resource)."""
        return self.resource.get_att_string("DatasetImportJobArn")

    def _location_bucket(
        self, data_location: str, location: validators.LocationParts, bucket: s3.IBucket | None
    ) -> s3.IBucket:
        if bucket is not None:
            named = location.bucket_name
            literal = (
                named is not None and not validators.is_token(named) and not validators.is_token(bucket.bucket_name)
            )
            if literal and bucket.bucket_name != named:
                raise ValueError(
                    f"data_location {data_location!r} names bucket {named!r} but bucket= is "
                    f"{bucket.bucket_name!r}: give one bucket"
                )
            return bucket
        if location.bucket_name is None:
            raise ValueError(
                f"data_location {data_location!r} is only known at deploy time: pass bucket= as well, so the "
                "role and bucket policy can be scoped to it"
            )
        return s3.Bucket.from_bucket_name(self, "DataBucket", location.bucket_name)


def _validate(
    dataset_arn: str,
    *,
    job_name: str | None,
    role: iam.IRole | None,
    tags: Mapping[str, str] | None,
    query_interval: Duration,
    total_timeout: Duration,
    schema: DatasetSchema | None,
) -> None:
    validators.validate_dataset_arn(dataset_arn)
    if job_name is not None:
        validators.validate_job_name(job_name)
    if role is not None:
        validators.validate_role_arn(role.role_arn)
    validators.validate_tags(tags or {})
    validators.validate_wait(query_interval, total_timeout)
    if schema is not None:
        validators.validate_schema_matches_dataset(schema.dataset_type.value, dataset_arn)


def _properties(
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
    """The custom resource's properties (the handler's contract)."""
    properties: dict[str, object] = {
        "DatasetArn": dataset_arn,
        "RoleArn": role_arn,
        "DataLocation": data_location,
        "ImportMode": import_mode,
    }
    if publish_attribution_metrics_to_s3 is not None:
        properties["PublishAttributionMetricsToS3"] = "true" if publish_attribution_metrics_to_s3 else "false"
    if tags:
        properties["Tags"] = [{"Key": k, "Value": tags[k]} for k in sorted(tags)]
    if job_name is not None:
        properties["JobName"] = job_name
    else:
        # The handler derives the name from these and the deployed stack's unique StackId.
        properties["JobNamePrefix"] = job_name_prefix
        if data_version:
            properties["DataVersion"] = data_version
    return properties


def _key_pattern(key: str | None) -> str:
    """The objects a location covers: a folder's first level (and below), one file, or the whole bucket."""
    if key is None or key == "":
        return "*"
    return f"{key}*" if key.endswith("/") else key


def _mebibytes(size: Size | None) -> int | None:
    return None if size is None else int(size.to_mebibytes())


def _default_prefix(construct: Construct) -> str:
    return f"{construct.node.id[:80]}-{construct.node.addr[:8]}/".replace(" ", "-")


def _check_combinations(
    *,
    sources: Sequence[s3_deployment.ISource] | None,
    data_location: str | None,
    bucket: s3.IBucket | None,
    destination_key_prefix: str | None,
    encryption_key: kms.IKey | None,
    server_access_logs_bucket: s3.IBucket | None,
    removal_policy: RemovalPolicy | None,
) -> None:
    """Reject props that contradict each other, naming both."""
    if sources is not None and data_location is not None:
        raise ValueError(
            f"give either sources (local data to upload) or data_location (data already in S3), not both; "
            f"got data_location {data_location!r} and {len(sources)} source(s)"
        )
    if sources is None and data_location is None:
        raise ValueError("give sources (local data to upload) or data_location (s3://bucket/key of data in S3)")
    if sources is not None and len(sources) == 0:
        raise ValueError("sources must hold at least one source, got an empty list")
    if destination_key_prefix is not None and sources is None:
        raise ValueError(
            f"destination_key_prefix {destination_key_prefix!r} applies to uploaded sources; with data_location "
            "the key is part of the location"
        )
    existing = "bucket=" if bucket is not None else ("data_location" if data_location is not None else None)
    if existing is None:
        return
    for name, value in (
        ("encryption_key", encryption_key),
        ("server_access_logs_bucket", server_access_logs_bucket),
        ("removal_policy", removal_policy),
    ):
        if value is not None:
            raise ValueError(
                f"{name} configures the bucket this construct creates, but the data is in an existing bucket "
                f"({existing}): configure that bucket itself, or drop {existing} to let DatasetImport create one"
            )
