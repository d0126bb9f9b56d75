"""``TrainingDataset``: schema, dataset and import from one declaration."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Names, Size
from aws_cdk import aws_iam as iam
from aws_cdk import aws_personalize as personalize
from constructs import Construct

from constructs_personalize import validators
from constructs_personalize.data_source import DataSource
from constructs_personalize.data_store import DataStore
from constructs_personalize.dataset_import import DatasetImport
from constructs_personalize.import_mode import ImportMode
from constructs_personalize.import_wait import ImportWait
from constructs_personalize.instance_names import instance_name
from constructs_personalize.schema import DatasetSchema

NAME_MAX = 63
# The DatasetType values CloudFormation's AWS::Personalize::Dataset accepts.
CLOUDFORMATION_DATASET_TYPES = ("Interactions", "Items", "Users")
SCHEMA_SUFFIX = "-schema"


class TrainingDataset(Construct):
    """A Personalize schema and dataset in a dataset group, filled by a ``DatasetImport`` during deploy.

    The typed ``schema`` renders the Avro JSON of the ``CfnSchema`` and, with local data
    (``DataSource.from_asset``), checks every CSV at synth. ``dataset_arn`` is ready as soon as the
    dataset exists; depend on ``data_import`` (or this construct) for work that needs the data.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        dataset_group_arn: str,
        schema: DatasetSchema,
        name: str | None = None,
        schema_name: str | None = None,
        data: DataSource,
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
        :param dataset_group_arn: The dataset group that receives the dataset.
        :param schema: The dataset's typed schema; its dataset type and domain are used as they are, and local
            data is checked against it at synth.
        :param name: Name of the dataset (1-63 chars, ``^[a-zA-Z0-9][a-zA-Z0-9\\-_]*$``), unique in its group.
            Default: - derived from the construct path
        :param schema_name: Name of the schema, unique per account and region (schemas are not scoped to a
            dataset group): a fixed name collides when the stack is deployed twice in one account.
            Default: - ``<name>-schema-<8 hex of the stack instance's id>``

        The other parameters are ``DatasetImport``'s, passed to the import as they are.
        """
        super().__init__(scope, id)
        if schema.dataset_type.value not in CLOUDFORMATION_DATASET_TYPES:
            accepted = ", ".join(CLOUDFORMATION_DATASET_TYPES)
            raise ValueError(
                f"TrainingDataset {self.node.path!r}: AWS::Personalize::Dataset takes {accepted} datasets only, "
                f"got a {schema.dataset_type.value} schema: create that dataset outside CloudFormation and import "
                "into it with DatasetImport"
            )
        dataset_name = name or Names.unique_resource_name(
            self, max_length=NAME_MAX, separator="-", allowed_special_characters="-_"
        )
        validators.validate_personalize_name("name", dataset_name)
        # A dataset's name is unique within its group, a schema's in the whole account and region.
        schema_name = schema_name or instance_name(dataset_name[: NAME_MAX - len(SCHEMA_SUFFIX)] + SCHEMA_SUFFIX)
        validators.validate_personalize_name("schema_name", schema_name)
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
            data=data,
            store=store,
            role=role,
            import_mode=import_mode,
            tags=tags,
            job_name=job_name,
            publish_attribution_metrics_to_s3=publish_attribution_metrics_to_s3,
            validate_data=validate_data,
            upload_memory_limit=upload_memory_limit,
            upload_ephemeral_storage_size=upload_ephemeral_storage_size,
            wait=wait,
        )
        """The ``DatasetImport`` that fills the dataset; depend on it (or this construct) for work that needs data."""
