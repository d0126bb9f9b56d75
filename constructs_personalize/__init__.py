"""Amazon Personalize dataset imports that run during ``cdk deploy``."""

from constructs_personalize.dataset_import import RESOURCE_TYPE, DatasetImport
from constructs_personalize.import_mode import ImportMode

__all__ = ["RESOURCE_TYPE", "DatasetImport", "ImportMode"]
