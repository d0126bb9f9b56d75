"""Amazon Personalize dataset imports that run during ``cdk deploy``."""

from constructs_personalize.data_source import DataSource
from constructs_personalize.data_store import DataStore
from constructs_personalize.dataset_import import RESOURCE_TYPE, DatasetImport
from constructs_personalize.import_mode import ImportMode
from constructs_personalize.import_wait import ImportWait
from constructs_personalize.instance_names import instance_name
from constructs_personalize.preflight import DataSummary, DataValidationError, validate_data
from constructs_personalize.schema import DatasetSchema, DatasetType, Domain, Field, FieldType
from constructs_personalize.training_dataset import TrainingDataset
from constructs_personalize.version import __version__

__all__ = [
    "RESOURCE_TYPE",
    "DataSource",
    "DataStore",
    "DataSummary",
    "DataValidationError",
    "DatasetImport",
    "DatasetSchema",
    "DatasetType",
    "Domain",
    "Field",
    "FieldType",
    "ImportMode",
    "ImportWait",
    "TrainingDataset",
    "__version__",
    "instance_name",
    "validate_data",
]
