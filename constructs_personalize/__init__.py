"""Amazon Personalize dataset imports that run during ``cdk deploy``.

The public names load on first use: ``python -m constructs_personalize wait`` (``cli.py``) then needs
neither aws-cdk-lib nor the Node.js runtime its jsii bindings start, only boto3.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from constructs_personalize.version import __version__

if TYPE_CHECKING:
    from constructs_personalize.data_source import DataSource
    from constructs_personalize.data_store import DataStore
    from constructs_personalize.dataset_import import RESOURCE_TYPE, DatasetImport
    from constructs_personalize.import_mode import ImportMode
    from constructs_personalize.import_wait import ImportWait
    from constructs_personalize.instance_names import instance_name
    from constructs_personalize.preflight import DataSummary, DataValidationError, validate_data
    from constructs_personalize.schema import DatasetSchema, DatasetType, Domain, Field, FieldType
    from constructs_personalize.training_dataset import TrainingDataset

# Each public name and the module that defines it.
_EXPORTS = {
    "RESOURCE_TYPE": "dataset_import",
    "DataSource": "data_source",
    "DataStore": "data_store",
    "DataSummary": "preflight",
    "DataValidationError": "preflight",
    "DatasetImport": "dataset_import",
    "DatasetSchema": "schema",
    "DatasetType": "schema",
    "Domain": "schema",
    "Field": "schema",
    "FieldType": "schema",
    "ImportMode": "import_mode",
    "ImportWait": "import_wait",
    "TrainingDataset": "training_dataset",
    "instance_name": "instance_names",
    "validate_data": "preflight",
}

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


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
