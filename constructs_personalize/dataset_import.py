"""``DatasetImport``: import training data into an Amazon Personalize dataset during ``cdk deploy``."""

from __future__ import annotations

import weakref
from collections.abc import Mapping

from aws_cdk import (
    Annotations,
    CfnWaitCondition,
    CfnWaitConditionHandle,
    CustomResource,
    Duration,
    Reference,
    Size,
    Stack,
    Tokenization,
)
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct, IDependable
from typing_extensions import Unpack

from constructs_personalize import generations, validators
from constructs_personalize.data_source import DataSource
from constructs_personalize.data_store import DataStore
from constructs_personalize.import_mode import ImportMode
from constructs_personalize.import_options import OPTION_NAMES, ImportOptions
from constructs_personalize.import_wait import ImportWait
from constructs_personalize.job_name import Place, job_name_prefix
from constructs_personalize.preflight import DataSummary
from constructs_personalize.preflight.assets import check_sources
from constructs_personalize.provider import DatasetImportProvider
from constructs_personalize.schema import DatasetSchema
from constructs_personalize.uploads import bind_local, upload

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
        schema: DatasetSchema | None = None,
        **options: Unpack[ImportOptions],
    ) -> None:
        """
        :param dataset_arn: ARN of the Personalize dataset that receives the data.
        :param schema: The dataset's ``DatasetSchema``. Local data (``DataSource.from_asset``) is checked against
            it at synth (header, types, timestamps, lengths, training minimums); bad data fails the synth.
            Default: - no pre-flight check
        :param options: ``ImportOptions``: ``data`` (required), ``store``, ``role``, ``import_mode``, ``tags``,
            ``job_name``, ``publish_attribution_metrics_to_s3``, ``query_interval``, ``total_timeout``,
            ``validate_data``, ``upload_memory_limit``, ``upload_ephemeral_storage_size``.
        """
        super().__init__(scope, id)
        place = Place.of(self)
        unknown = sorted(set(options) - OPTION_NAMES)
        if unknown:
            raise TypeError(f"DatasetImport {place.path!r} got unknown options {unknown}")
        source = options.get("data")
        if not isinstance(source, DataSource):
            raise TypeError(
                f"DatasetImport {place.path!r} needs data=DataSource.from_asset(...) / .from_bucket(...) / "
                f".from_uri(...), got {source!r}"
            )
        query_interval = options.get("query_interval") or DEFAULT_QUERY_INTERVAL
        total_timeout = options.get("total_timeout") or DEFAULT_TOTAL_TIMEOUT
        mode = ImportMode(options.get("import_mode", ImportMode.FULL)).value
        job_name = options.get("job_name")
        tags = options.get("tags")
        wait = options.get("wait") or ImportWait.within_deployment()
        wait.check_polls(query_interval, place.path)
        if wait.mode == "COMPLETION":
            _count_waiting_import(self, place)
        # Validate first, build second: nothing is created for options that cannot work.
        _validate(
            dataset_arn,
            job_name=job_name,
            role=options.get("role"),
            tags=tags,
            query_interval=query_interval,
            total_timeout=total_timeout,
            schema=schema,
        )
        data_key = source.key_prefix or _default_prefix(place)

        provider = DatasetImportProvider.of_stack(place, query_interval=query_interval, total_timeout=total_timeout)
        store = options.get("store") or DataStore.of_stack(place.stack)
        self.role: iam.IRole = options.get("role") or store.role
        """The role Personalize assumes to read the data (the store's role unless given)."""
        self.data_summary: DataSummary | None = None
        """What the pre-flight check found (files, records, users), or None when it did not run."""
        waits: list[IDependable] = []
        data_version = ""
        if source.local_path is not None:
            upload_done, data_version = self._upload(
                source, data_key, place=place, store=store, provider=provider, schema=schema, mode=mode, options=options
            )
            waits.append(upload_done)
            key_pattern = f"{data_key}*"
        else:
            key_pattern = self._in_s3(source)
        waits += provider.read_grants.grant(self, self.bucket, key_pattern, self.role)

        properties = _properties(
            dataset_arn=dataset_arn,
            role_arn=self.role.role_arn,
            data_location=self.data_location,
            import_mode=mode,
            publish_attribution_metrics_to_s3=options.get("publish_attribution_metrics_to_s3"),
            tags=tags,
            job_name=job_name,
            job_name_prefix=job_name_prefix(place),
            data_version=data_version,
        )
        identity = generations.identity_digest(self, properties)
        handle = self._wait_handle(wait, properties, provider, query_interval)
        properties[generations.AFTER_JOB] = generations.after_job(provider.import_order, dataset_arn, place.path)
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
        self.wait_condition: CfnWaitCondition | None = None
        """With ``ImportWait.up_to``: the wait condition the waiter signals when the job ends, else None."""
        self._wait_and_order(
            handle, wait, waits, provider=provider, dataset_arn=dataset_arn, mode=mode, place=place, identity=identity
        )

    def _wait_and_order(
        self,
        handle: CfnWaitConditionHandle | None,
        wait: ImportWait,
        waits: list[IDependable],
        *,
        provider: DatasetImportProvider,
        dataset_arn: str,
        mode: str,
        place: Place,
        identity: str,
    ) -> None:
        """The long wait's condition, and this import's place in its dataset's order."""
        if handle is not None:
            assert wait.timeout is not None
            self.wait_condition = CfnWaitCondition(
                self,
                f"Wait{handle.node.id.removeprefix('WaitHandle')}",
                handle=handle.ref,
                timeout=str(int(wait.timeout.to_seconds())),
                count=1,
            )
            self.wait_condition.node.add_dependency(self.resource)
            # The handle's URL has an undocumented lifetime: create it no earlier than the import can begin.
            handle.node.add_dependency(*waits)
            generations.follow_full_import(provider.import_order, dataset_arn, place.path, handle, self.wait_condition)
        provider.import_order.add(
            handle or self.resource,
            self.wait_condition or self.resource,
            dataset_arn,
            mode,
            waits=wait.mode != "NONE",
            requested_by=place.path,
            job_name=self.job_name,
            identity=identity,
        )

    def _upload(
        self,
        source: DataSource,
        data_key: str,
        *,
        place: Place,
        store: DataStore,
        provider: DatasetImportProvider,
        schema: DatasetSchema | None,
        mode: str,
        options: ImportOptions,
    ) -> tuple[IDependable, str]:
        """Check the local data and upload it into the store: the upload to wait for, the data's version."""
        assert source.local_path is not None
        bound = bind_local(self, place, source.local_path, source.exclude, provider)
        if schema is not None and options.get("validate_data", True):
            self.data_summary = check_sources(self, bound, schema, mode)
        self.bucket: s3.IBucket = store.bucket
        """The bucket that holds the data."""
        store.add_upload(place.path)
        deployment = upload(
            self,
            place,
            bound,
            bucket=self.bucket,
            prefix=data_key,
            provider=provider,
            memory_limit_mib=options.get("upload_memory_limit"),
            ephemeral_storage_mib=_mebibytes(options.get("upload_ephemeral_storage_size")),
        )
        self.data_location = f"s3://{self.bucket.bucket_name}/{data_key}"
        """The ``s3://`` location the job imports."""
        return deployment, bound.data_version

    def _in_s3(self, source: DataSource) -> str:
        """Data already in S3: its bucket and location; return the objects the grants cover."""
        assert source.uri is not None
        location = validators.split_data_location(source.uri)
        self.bucket = (
            source.bucket
            or _bucket_named(str(location.bucket_name))
            or s3.Bucket.from_bucket_name(self, "DataBucket", str(location.bucket_name))
        )
        self.data_location = source.uri
        if location.key is None:
            Annotations.of(self).add_warning_v2(
                "constructs_personalize:wholeBucketScope",
                f"the key of the data location {source.uri!r} is only known at deploy time, so the role and "
                "the bucket policy cover the whole bucket: write the key as a literal to scope them to it",
            )
        return _key_pattern(location.key)

    def _wait_handle(
        self, wait: ImportWait, properties: dict[str, object], provider: DatasetImportProvider, interval: Duration
    ) -> CfnWaitConditionHandle | None:
        """For a long wait, the handle of this job's wait condition, and the properties the waiter needs."""
        if wait.mode != "COMPLETION":
            properties["WaitMode"] = wait.mode
        if wait.mode != "SIGNAL":
            return None
        # A WaitCondition cannot be updated: each job gets its own handle and condition, whose ids follow
        # what names the job, so an unchanged deploy keeps them and a changed one waits for the new job.
        # The timeout is part of the id too: CloudFormation does not support updating a WaitCondition's
        # Timeout, so a changed wait gets a new handle and condition.
        assert wait.timeout is not None  # ImportWait.up_to
        timeout = str(int(wait.timeout.to_seconds()))
        digest = generations.identity_digest(self, properties, WaitTimeoutSeconds=timeout)
        handle = CfnWaitConditionHandle(self, f"WaitHandle{digest[:8]}")
        properties.update(
            WaitHandle=handle.ref,
            WaiterStateMachineArn=provider.long_waiter.state_machine_arn,
            WaitTimeoutSeconds=str(int(wait.timeout.to_seconds())),
            WaitIntervalSeconds=str(int(interval.to_seconds())),
        )
        return handle

    @property
    def job_name(self) -> str:
        """Name of the import job (from the custom resource)."""
        return self.resource.get_att_string("JobName")

    @property
    def job_arn(self) -> str:
        """ARN of the import job (from the custom resource)."""
        return self.resource.get_att_string("DatasetImportJobArn")


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
    if query_interval is not DEFAULT_QUERY_INTERVAL or total_timeout is not DEFAULT_TOTAL_TIMEOUT:
        validators.validate_wait(query_interval, total_timeout)  # the defaults are valid
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


def _bucket_named(name: str) -> s3.Bucket | None:
    """The app's own bucket behind ``f"s3://{bucket.bucket_name}/..."``, so its policy gets the grant."""
    if not validators.is_token(name):
        return None
    token = Tokenization.reverse_string(name).first_token
    if not isinstance(token, Reference) or not isinstance(token.target, s3.CfnBucket):
        return None
    bucket = token.target.node.scope
    return bucket if isinstance(bucket, s3.Bucket) and bucket.bucket_name == name else None


def _key_pattern(key: str | None) -> str:
    """The objects a location covers: a folder's first level (and below), one file, or the whole bucket."""
    if key is None or key == "":
        return "*"
    return f"{key}*" if key.endswith("/") else key


def _mebibytes(size: Size | None) -> int | None:
    return None if size is None else int(size.to_mebibytes())


# Personalize runs at most 5 import jobs per account and region at once (not adjustable, shared).
QUOTA_SLOTS = 5
_WAITING_IMPORTS: weakref.WeakKeyDictionary[Stack, list[str]] = weakref.WeakKeyDictionary()


def _count_waiting_import(imp: Construct, place: Place) -> None:
    """Warn from the sixth import that holds the deployment within its custom resource's hour."""
    waiting = _WAITING_IMPORTS.setdefault(place.stack, [])
    waiting.append(place.path)
    if len(waiting) > QUOTA_SLOTS:
        Annotations.of(imp).add_warning_v2(
            "constructs_personalize:importQuota",
            f"stack {place.stack.stack_name} has {len(waiting)} imports that wait within the deployment (at most 1 "
            f"hour each), but Personalize runs at most {QUOTA_SLOTS} import jobs per account and region at once, "
            "shared with everyone there: an import still waiting for a slot at the end of its hour fails the deploy. "
            "Use wait=ImportWait.up_to(...) to wait for a slot for up to 12 hours",
        )


def _default_prefix(place: Place) -> str:
    return f"{place.relative_ids[-1][:80]}-{place.addr[:8]}/".replace(" ", "-")
