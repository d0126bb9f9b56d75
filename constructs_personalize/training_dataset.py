"""``TrainingDataset``: schema, dataset and import from one declaration."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration, Names, RemovalPolicy
from aws_cdk import aws_personalize as personalize
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3_deployment
from constructs import Construct

from constructs_personalize import validators
from constructs_personalize.dataset_import import DatasetImport
from constructs_personalize.import_mode import ImportMode
from constructs_personalize.schema import DatasetSchema

NAME_MAX = 63
SCHEMA_SUFFIX = "-schema"


class TrainingDataset(Construct):
    """A Personalize schema and dataset in a dataset group, filled by a ``DatasetImport`` during deploy.

    The typed ``schema`` renders the Avro JSON of the ``CfnSchema`` and, with local ``sources``, checks
    every CSV at synth. ``dataset_arn`` is ready as soon as the dataset exists; depend on
    ``data_import`` (or this construct) for work that needs the data.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        dataset_group_arn: str,
        schema: DatasetSchema,
        name: str | None = None,
        sources: Sequence[s3_deployment.ISource] | None = None,
        data_location: str | None = None,
        bucket: s3.IBucket | None = None,
        import_mode: ImportMode = ImportMode.FULL,
        tags: Mapping[str, str] | None = None,
        job_name: str | None = None,
        removal_policy: RemovalPolicy | None = None,
        validate_data: bool = True,
        query_interval: Duration | None = None,
        total_timeout: Duration | None = None,
    ) -> None:
        """
        :param dataset_group_arn: The dataset group that receives the dataset.
        :param schema: The dataset's typed schema; its dataset type and domain are used as they are.
        :param name: Name of the dataset (1-63 chars, ``^[a-zA-Z0-9][a-zA-Z0-9\\-_]*$``); the schema is named
            ``<name>-schema`` (the name cut to fit). Default: - derived from the construct path
        :param sources: Local data to upload (see ``DatasetImport``). Give ``sources`` or ``data_location``.
        :param data_location: Data already in S3 (see ``DatasetImport``).
        :param bucket: See ``DatasetImport``. Default: - a bucket is created
        :param import_mode: See ``DatasetImport``. Default: - ImportMode.FULL
        :param tags: Tags of the import job. Default: - no tags
        :param job_name: See ``DatasetImport``. Default: - derived from the inputs
        :param removal_policy: See ``DatasetImport``. Default: - RemovalPolicy.RETAIN
        :param validate_data: Set to False to skip the pre-flight check of local data. Default: - True
        :param query_interval: See ``DatasetImport``. Default: - 30 seconds
        :param total_timeout: See ``DatasetImport``. Default: - 1 hour
        """
        super().__init__(scope, id)
        dataset_name = name or Names.unique_resource_name(
            self, max_length=NAME_MAX, separator="-", allowed_special_characters="-_"
        )
        validators.validate_personalize_name("name", dataset_name)
        schema_name = dataset_name[: NAME_MAX - len(SCHEMA_SUFFIX)] + SCHEMA_SUFFIX
        self.schema = schema
        self.schema_resource = personalize.CfnSchema(
            self,
            "Schema",
            name=schema_name,
            schema=schema.to_json(),
            domain=schema.domain.value if schema.domain else None,
        )
        self.dataset = personalize.CfnDataset(
            self,
            "Dataset",
            name=dataset_name,
            dataset_group_arn=dataset_group_arn,
            dataset_type=schema.dataset_type.value,
            schema_arn=self.schema_resource.attr_schema_arn,
        )
        self.dataset_arn = self.dataset.attr_dataset_arn
        self.data_import = DatasetImport(
            self,
            "Import",
            dataset_arn=self.dataset_arn,
            schema=schema,
            validate_data=validate_data,
            sources=sources,
            data_location=data_location,
            bucket=bucket,
            import_mode=import_mode,
            tags=tags,
            job_name=job_name,
            removal_policy=removal_policy,
            query_interval=query_interval,
            total_timeout=total_timeout,
        )
