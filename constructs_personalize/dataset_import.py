"""``DatasetImport``: import training data into an Amazon Personalize dataset during ``cdk deploy``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import jsii
from aws_cdk import CustomResource, Duration, IStableStringProducer, Lazy, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_s3_deployment as s3_deployment
from constructs import Construct, IDependable

from constructs_personalize import validators
from constructs_personalize.data_bucket import allow_key_use, allow_personalize_to_read, create_data_bucket
from constructs_personalize.import_mode import ImportMode
from constructs_personalize.job_name import derive_job_name
from constructs_personalize.nag import acknowledge, flatten_reference
from constructs_personalize.preflight import DataSummary
from constructs_personalize.preflight.assets import check_sources
from constructs_personalize.provider import DatasetImportProvider
from constructs_personalize.schema import DatasetSchema

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
    ) -> None:
        """
        :param dataset_arn: ARN of the Personalize dataset that receives the data.
        :param sources: Local files or folders of the CDK app (``Source.asset(...)``), uploaded into the
            bucket by ``BucketDeployment`` before the import starts; every CSV under them is imported.
            Default: - none; give either ``sources`` or ``data_location``.
        :param data_location: ``s3://bucket/key`` of one CSV, or ``s3://bucket/prefix/`` (every CSV under
            it), of data already in S3. Default: - none; give either ``sources`` or ``data_location``.
        :param bucket: An existing bucket holding (or receiving) the data. If it is defined in this app,
            the Personalize bucket policy is added to it; if imported, it must already have that policy.
            Default: - a private, encrypted, TLS-only bucket with server access logs is created
            (required when ``data_location`` names another bucket: the bucket of ``data_location`` is used).
        :param destination_key_prefix: Key prefix (ending in ``/``) that ``sources`` are uploaded to.
            Default: - ``<id>-<8 hex chars of the construct address>/``
        :param role: Role Personalize assumes to read the data. It is granted read access to the data
            location. Default: - a role trusting personalize.amazonaws.com for this account and region only
        :param encryption_key: KMS key for a created bucket. Default: - S3-managed encryption
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
        """
        super().__init__(scope, id)
        query_interval = query_interval or DEFAULT_QUERY_INTERVAL
        total_timeout = total_timeout or DEFAULT_TOTAL_TIMEOUT
        _check_combinations(
            sources=sources,
            data_location=data_location,
            bucket=bucket,
            destination_key_prefix=destination_key_prefix,
            encryption_key=encryption_key,
            server_access_logs_bucket=server_access_logs_bucket,
            removal_policy=removal_policy,
        )
        validators.validate_dataset_arn(dataset_arn)
        if job_name is not None:
            validators.validate_job_name(job_name)
        if role is not None:
            validators.validate_role_arn(role.role_arn)
        validators.validate_tags(tags or {})
        validators.validate_wait(query_interval, total_timeout)

        self.bucket, data_key = self._resolve_data_bucket(
            data_location, bucket, encryption_key, server_access_logs_bucket, removal_policy
        )
        self.role = role or self._create_role()
        self._deployment: s3_deployment.BucketDeployment | None = None
        if sources is not None:
            data_key = destination_key_prefix or _default_prefix(self)
            validators.validate_key_prefix(data_key)
        self.data_location = f"s3://{self.bucket.bucket_name}/{data_key}"

        provider = DatasetImportProvider.of_stack(
            self, query_interval=query_interval, total_timeout=total_timeout, requested_by=self.node.path
        )
        provider.allow_import(self.role, dataset_arn)
        if sources is not None:
            self._deployment = self._upload(sources, data_key, provider)
        self.data_summary: DataSummary | None = None
        """What the pre-flight check found (files, records, users), or None when it did not run."""
        if schema is not None:
            validators.validate_schema_matches_dataset(schema.dataset_type.value, dataset_arn)
            if validate_data and self._deployment is not None:
                self.data_summary = check_sources(
                    self, self._deployment, len(sources or []), schema, ImportMode(import_mode).value
                )
        read_policies = self._grant_read(data_key)

        properties: dict[str, object] = {
            "DatasetArn": dataset_arn,
            "RoleArn": self.role.role_arn,
            "DataLocation": self.data_location,
            "ImportMode": ImportMode(import_mode).value,
        }
        if publish_attribution_metrics_to_s3 is not None:
            properties["PublishAttributionMetricsToS3"] = "true" if publish_attribution_metrics_to_s3 else "false"
        if tags:
            properties["Tags"] = [{"Key": k, "Value": tags[k]} for k in sorted(tags)]
        properties["JobName"] = job_name or Lazy.string(_DerivedName(self, properties))

        self.resource = CustomResource(
            self, "Resource", service_token=provider.service_token, resource_type=RESOURCE_TYPE, properties=properties
        )
        # The job must start only once the data, the role's permissions and the bucket policy exist.
        self.resource.node.add_dependency(*read_policies)
        if self._deployment is not None:
            self.resource.node.add_dependency(self._deployment)
        if isinstance(self.bucket, s3.Bucket) and self.bucket.policy is not None:
            self.resource.node.add_dependency(self.bucket.policy)
        if self.bucket.encryption_key is not None:
            self.resource.node.add_dependency(self.bucket.encryption_key)

    @property
    def job_name(self) -> str:
        """Name of the import job (from the custom resource)."""
        return self.resource.get_att_string("JobName")

    @property
    def job_arn(self) -> str:
        """ARN of the import job (from the custom resource)."""
        return self.resource.get_att_string("DatasetImportJobArn")

    # -- pieces ------------------------------------------------------------------------------
    def _resolve_data_bucket(
        self,
        data_location: str | None,
        bucket: s3.IBucket | None,
        encryption_key: kms.IKey | None,
        server_access_logs_bucket: s3.IBucket | None,
        removal_policy: RemovalPolicy | None,
    ) -> tuple[s3.IBucket, str]:
        if data_location is None:
            if bucket is None:
                bucket = create_data_bucket(
                    self,
                    removal_policy=removal_policy or RemovalPolicy.RETAIN,
                    encryption_key=encryption_key,
                    server_access_logs_bucket=server_access_logs_bucket,
                )
            allow_personalize_to_read(bucket)
            return bucket, ""
        if validators.is_token(data_location):
            if bucket is None:
                raise ValueError(
                    f"data_location {data_location!r} is only known at deploy time: pass bucket= as well, so the "
                    "role and bucket policy can be scoped to it"
                )
            allow_personalize_to_read(bucket)
            return bucket, "*"
        bucket_name, key = validators.parse_data_location(data_location)
        if bucket is None:
            bucket = s3.Bucket.from_bucket_name(self, "DataBucket", bucket_name)
        elif not validators.is_token(bucket.bucket_name) and bucket.bucket_name != bucket_name:
            raise ValueError(
                f"data_location {data_location!r} names bucket {bucket_name!r} but bucket= is {bucket.bucket_name!r}: "
                "give one bucket"
            )
        allow_personalize_to_read(bucket)
        return bucket, key

    def _create_role(self) -> iam.Role:
        stack = Stack.of(self)
        # Confused-deputy protection: only Personalize acting for this account and region may assume it.
        principal = iam.ServicePrincipal(
            "personalize.amazonaws.com",
            conditions={
                "StringEquals": {"aws:SourceAccount": stack.account},
                "ArnLike": {"aws:SourceArn": f"arn:{stack.partition}:personalize:{stack.region}:{stack.account}:*"},
            },
        )
        return iam.Role(
            self,
            "Role",
            assumed_by=principal,
            description="Lets Amazon Personalize read this DatasetImport's training data",
        )

    def _grant_read(self, data_key: str) -> list[IDependable]:
        """Grant the role read access to the data; return the policies the import must wait for."""
        # A folder location covers every object under the prefix; a file location, that object only.
        pattern = "*" if data_key in ("", "*") else (f"{data_key}*" if data_key.endswith("/") else data_key)
        objects = self.bucket.arn_for_objects(pattern)
        results = [
            self.role.add_to_principal_policy(
                iam.PolicyStatement(sid="ReadTrainingData", actions=["s3:GetObject"], resources=[objects])
            ),
            self.role.add_to_principal_policy(
                iam.PolicyStatement(
                    sid="ListTrainingData", actions=["s3:ListBucket"], resources=[self.bucket.bucket_arn]
                )
            ),
        ]
        if self.bucket.encryption_key is not None:
            allow_key_use(self.bucket.encryption_key, self.role)
        if "*" in pattern:
            # On the role: its DefaultPolicy, or the Policy CDK attaches to an imported mutable role.
            acknowledge(
                self.role,
                f"AwsSolutions-IAM5[Resource::{flatten_reference(self, objects)}]",
                "Personalize imports every CSV under the data location's prefix; the role reads only that prefix.",
            )
        return [r.policy_dependable for r in results if r.policy_dependable is not None]

    def _upload(
        self, sources: Sequence[s3_deployment.ISource], prefix: str, provider: DatasetImportProvider
    ) -> s3_deployment.BucketDeployment:
        role = provider.deployment_role
        deployment = s3_deployment.BucketDeployment(
            self,
            "Upload",
            sources=list(sources),
            destination_bucket=self.bucket,
            destination_key_prefix=prefix,
            role=role,
            log_group=provider.deployment_logs,
            # The job imports every CSV under the prefix: stale files from an older upload must go.
            prune=True,
        )
        provider.acknowledge_deployment_grants(self.bucket, deployment)
        return deployment

    def _derived_job_name(self, properties: Mapping[str, object]) -> str:
        stack = Stack.of(self)
        inputs = {k: v for k, v in properties.items() if k != "JobName"}
        assets = sorted(
            child.asset_hash
            for child in (self._deployment.node.find_all() if self._deployment else [])
            if isinstance(child, s3_assets.Asset)
        )
        relative_path = [scope.node.id for scope in self.node.scopes[len(stack.node.scopes) :]]
        return derive_job_name("-".join(relative_path), {"inputs": stack.resolve(inputs), "assets": assets})


@jsii.implements(IStableStringProducer)
class _DerivedName:
    """Computes the job name at synth, once every input (and logical id) is final."""

    def __init__(self, owner: DatasetImport, properties: Mapping[str, object]) -> None:
        self._owner = owner
        self._properties = properties

    def produce(self) -> str:
        return self._owner._derived_job_name(self._properties)


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
