"""``DatasetImport``: import training data into an Amazon Personalize dataset during ``cdk deploy``."""

from __future__ import annotations

import re
from collections.abc import Mapping

from aws_cdk import Annotations, CfnWaitCondition, CfnWaitConditionHandle, CustomResource, Duration, Size, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct, IDependable

from constructs_personalize import generations, import_settings, validators
from constructs_personalize.data_source import DataSource
from constructs_personalize.data_store import DataStore
from constructs_personalize.for_people import without_tokens
from constructs_personalize.handlers.dataset_import import contract as c
from constructs_personalize.import_mode import ImportMode
from constructs_personalize.import_properties import bucket_named, job_properties, key_pattern, mebibytes, validate
from constructs_personalize.import_wait import ImportWait
from constructs_personalize.job_name import Place, job_name_prefix
from constructs_personalize.preflight import DataSummary
from constructs_personalize.preflight.assets import check_sources
from constructs_personalize.provider import DatasetImportProvider
from constructs_personalize.schema import DatasetSchema
from constructs_personalize.uploads import bind_local, upload

RESOURCE_TYPE = c.RESOURCE_TYPE


class DatasetImport(Construct):
    """Imports data into a Personalize dataset and completes only once the import job is ACTIVE.

    Depend on this construct (``solution.node.add_dependency(imp)``) to start work that needs
    the data: it completes after the job is ACTIVE, and fails the deployment with the job's
    ``failureReason`` when the job ends CREATE FAILED. The parameters are documented once, in the
    README's parameter table; ``TrainingDataset`` takes the same ones.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        dataset_arn: str,
        data: DataSource,
        schema: DatasetSchema | None = None,
        store: DataStore | None = None,
        role: iam.IRole | None = None,
        import_mode: ImportMode = ImportMode.FULL,
        tags: Mapping[str, str] | None = None,
        job_name: str | None = None,
        publish_attribution_metrics_to_s3: bool | None = None,
        validate_data: bool = True,
        upload_memory_limit: int | None = None,
        upload_ephemeral_storage_size: Size | None = None,
        wait: ImportWait | None = None,
    ) -> None:
        """
        :param dataset_arn: ARN of the Personalize dataset that receives the data.
        :param data: Where the data is: ``DataSource.from_asset(...)``, ``.from_bucket(...)`` or ``.from_uri(...)``.
        :param schema: The dataset's schema: local data is checked against it at synth. Default: - no check
        :param store: Where local data is uploaded and which role reads it. Default: - ``DataStore.of(stack)``
        :param role: The role Personalize assumes to read the data. Default: - the store's role
        :param import_mode: FULL replaces the dataset's bulk data; INCREMENTAL adds to it. Default: - FULL
        :param tags: Tags of the import job (re-applied to the same job when they change). Default: - none
        :param job_name: Name of the import job; names are permanent. Default: - derived per stack instance
        :param publish_attribution_metrics_to_s3: Publish metric attribution metrics to S3. Default: - not set
        :param validate_data: False skips the synth-time check of local data. Default: - True
        :param upload_memory_limit: Memory (MiB) of the upload function. Default: - sized from the data
        :param upload_ephemeral_storage_size: ``/tmp`` of the upload function. Default: - sized from the data
        :param wait: How long the deployment holds for the job. Default: - ``ImportWait.within_deployment()``
        """
        super().__init__(scope, id)
        place = Place.of(self)
        if not isinstance(data, DataSource):
            raise TypeError(
                f"DatasetImport {place.path!r} needs data=DataSource.from_asset(...) / .from_bucket(...) / "
                f".from_uri(...), got {data!r}"
            )
        mode = ImportMode(import_mode).value
        wait = wait or ImportWait.within_deployment()
        validate(dataset_arn, job_name=job_name, role=role, tags=tags, schema=schema)
        settings = import_settings.settings_for_import(place.stack, place.path)
        wait.check_polls(settings.query_interval, place.path)
        if wait.mode == c.WAIT_COMPLETION:
            import_settings.count_waiting_import(self, place.stack)
        provider = DatasetImportProvider.of_stack(
            place, query_interval=settings.query_interval, total_timeout=settings.total_timeout
        )
        store = store or DataStore.of_stack(place.stack)
        self.role: iam.IRole = role or store.role
        """The role Personalize assumes to read the data (the store's role unless given)."""
        self.data_summary: DataSummary | None = None
        """What the pre-flight check found (files, records, users), or None when it did not run."""
        waits: list[IDependable] = []
        data_version = ""
        if data.local_path is not None:
            data_key = data.key_prefix or _default_prefix(place)
            self._upload(data, data_key, place=place, store=store)
            if schema is not None and validate_data:
                self.data_summary = check_sources(self, self._bound, schema, mode)
            waits.append(self._send(data_key, place, upload_memory_limit, upload_ephemeral_storage_size))
            data_version = self._bound.data_version
            objects = f"{data_key}*"
        else:
            objects = self._in_s3(data)
        waits += provider.read_grants.grant(self, self.bucket, objects, self.role)

        properties = job_properties(
            dataset_arn=dataset_arn,
            role_arn=self.role.role_arn,
            data_location=self.data_location,
            import_mode=mode,
            publish_attribution_metrics_to_s3=publish_attribution_metrics_to_s3,
            tags=tags,
            job_name=job_name,
            job_name_prefix=job_name_prefix(place),
            data_version=data_version,
        )
        identity = generations.identity_digest(self, properties)
        handle = self._wait_handle(wait, properties, provider, settings.query_interval)
        properties[c.AFTER_JOB] = generations.after_job(provider.import_order, dataset_arn, place.path)
        self.resource = CustomResource(
            self,
            "Resource",
            service_token=provider.service_token,
            service_timeout=provider.service_timeout,
            resource_type=c.RESOURCE_TYPE,
            properties=properties,
        )
        """The ``Custom::PersonalizeDatasetImport`` resource."""
        # The job must start only once the data and the read permissions exist.
        self.resource.node.add_dependency(*waits)
        self.wait_condition: CfnWaitCondition | None = None
        """With ``ImportWait.up_to``: the wait condition the waiter signals when the job ends, else None."""
        if handle is not None:
            self._long_wait(handle, wait, waits, order=(provider, dataset_arn, place))
        provider.import_order.add(
            handle or self.resource,
            self.wait_condition or self.resource,
            dataset_arn,
            mode,
            waits=wait.mode != c.WAIT_NONE,
            requested_by=place.path,
            job_name=self.job_name,
            identity=identity,
        )

    @staticmethod
    def configure(
        stack: Stack,
        *,
        query_interval: Duration = import_settings.DEFAULT_QUERY_INTERVAL,
        total_timeout: Duration = import_settings.DEFAULT_TOTAL_TIMEOUT,
    ) -> None:
        """Set how the stack's imports wait: once per stack, before its first ``DatasetImport``.

        All imports of a stack share one provider (one set of functions and one waiter), so these are the
        stack's values, not an import's.

        :param query_interval: How often the deployment checks a job (and a long wait's waiter polls it).
            Default: - 30 seconds
        :param total_timeout: How long the custom resource waits: at most 1 hour, a whole multiple of
            query_interval, leaving the handler's margin. Default: - 1 hour
        """
        import_settings.configure(stack, query_interval=query_interval, total_timeout=total_timeout)

    def _upload(self, data: DataSource, data_key: str, *, place: Place, store: DataStore) -> None:
        """Bind the local data (the staged copy the check reads and the upload sends) into the store."""
        assert data.local_path is not None
        self._bound = bind_local(self, place, data.local_path, data.exclude)
        self.bucket: s3.IBucket = store.bucket
        """The bucket that holds the data."""
        store.add_upload(place.path)
        self.data_location = f"s3://{self.bucket.bucket_name}/{data_key}"
        """The ``s3://`` location the job imports."""

    def _send(
        self,
        data_key: str,
        place: Place,
        memory_limit: int | None,
        ephemeral_storage: Size | None,
    ) -> IDependable:
        return upload(
            self,
            place,
            self._bound,
            bucket=self.bucket,
            prefix=data_key,
            memory_limit_mib=memory_limit,
            ephemeral_storage_mib=mebibytes(ephemeral_storage),
        )

    def _in_s3(self, data: DataSource) -> str:
        """Data already in S3: its bucket and location; return the objects the grants cover."""
        assert data.uri is not None
        location = validators.split_data_location(data.uri)
        self.bucket = (
            data.bucket
            or bucket_named(str(location.bucket_name))
            or s3.Bucket.from_bucket_name(self, "DataBucket", str(location.bucket_name))
        )
        self.data_location = data.uri
        if location.key is None:
            Annotations.of(self).add_warning_v2(
                "constructs_personalize:wholeBucketScope",
                f"the key of the data location {without_tokens(data.uri)!r} is only known at deploy time, so the role "
                "and the bucket policy cover the whole bucket: write the key as a literal to scope them to it",
            )
        return key_pattern(location.key)

    def _wait_handle(
        self, wait: ImportWait, properties: dict[str, object], provider: DatasetImportProvider, interval: Duration
    ) -> CfnWaitConditionHandle | None:
        """For a long wait, the handle of this job's wait condition, and the properties the waiter needs."""
        if wait.mode != c.WAIT_COMPLETION:
            properties[c.WAIT_MODE] = wait.mode
        if wait.mode != c.WAIT_SIGNAL:
            return None
        # A WaitCondition cannot be updated (its Timeout neither): each job and each wait length gets its
        # own handle and condition, so an unchanged deploy keeps them and a changed one waits anew.
        assert wait.timeout is not None  # ImportWait.up_to
        timeout = str(int(wait.timeout.to_seconds()))
        digest = generations.identity_digest(self, properties, **{c.WAIT_TIMEOUT_SECONDS: timeout})
        handle = CfnWaitConditionHandle(self, f"WaitHandle{digest[:8]}")
        properties.update(
            {
                c.WAIT_HANDLE: handle.ref,
                c.WAITER_STATE_MACHINE_ARN: provider.long_waiter.state_machine_arn,
                c.WAIT_TIMEOUT_SECONDS: timeout,
                c.WAIT_INTERVAL_SECONDS: str(int(interval.to_seconds())),
            }
        )
        return handle

    def _long_wait(
        self,
        handle: CfnWaitConditionHandle,
        wait: ImportWait,
        waits: list[IDependable],
        *,
        order: tuple[DatasetImportProvider, str, Place],
    ) -> None:
        provider, dataset_arn, place = order
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

    @property
    def job_name(self) -> str:
        """Name of the import job (from the custom resource)."""
        return self.resource.get_att_string(c.ATTR_JOB_NAME)

    @property
    def job_arn(self) -> str:
        """ARN of the import job (from the custom resource)."""
        return self.resource.get_att_string(c.ATTR_JOB_ARN)


def _default_prefix(place: Place) -> str:
    # The construct id cut to fit and cleaned to what a bucket tag key takes (BucketDeployment tags with it).
    readable = re.sub(r"[^A-Za-z0-9_.:=+\-@]+", "-", place.relative_ids[-1][:80])
    return f"{readable}-{place.addr[:8]}/"
