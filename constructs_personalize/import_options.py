"""``ImportOptions``: the one definition of a dataset import's options.

``DatasetImport`` and ``TrainingDataset`` both take them as keyword arguments (``**options``), so an
option added here reaches both and nothing is forwarded by hand.
"""

from collections.abc import Mapping
from typing import Required

from aws_cdk import Duration, Size
from aws_cdk import aws_iam as iam
from typing_extensions import TypedDict

from constructs_personalize.data_source import DataSource
from constructs_personalize.data_store import DataStore
from constructs_personalize.import_mode import ImportMode
from constructs_personalize.import_wait import ImportWait


class ImportOptions(TypedDict, total=False):
    """Options of one dataset import (every key but ``data`` is optional)."""

    data: Required[DataSource]
    """Where the data is: ``DataSource.from_asset(...)``, ``.from_bucket(...)`` or ``.from_uri(...)``."""
    store: DataStore
    """Where local data is uploaded and which role reads it. Default: - the stack's ``DataStore.of(stack)``"""
    role: iam.IRole
    """The role Personalize assumes to read the data; it is granted read access to the data location.
    Default: - the store's role, trusting personalize.amazonaws.com for this account and region only"""
    import_mode: ImportMode
    """FULL replaces the dataset's bulk data; INCREMENTAL adds to it (after a FULL import). Default: - FULL"""
    publish_attribution_metrics_to_s3: bool
    """Publish metric attribution metrics to S3. Default: - not set (the service default)"""
    tags: Mapping[str, str]
    """Tags of the import job (changed tags are re-applied to the job). Default: - no tags"""
    job_name: str
    """Name of the import job (1-63 chars); job names are permanent. Default: - derived per stack instance"""
    query_interval: Duration
    """How often the deployment checks the job (one value per stack). Default: - 30 seconds"""
    total_timeout: Duration
    """How long the deployment waits, at most 1 hour and a multiple of query_interval. Default: - 1 hour"""
    validate_data: bool
    """Set to False to skip the synth-time check of local data against the schema. Default: - True"""
    upload_memory_limit: int
    """Memory (MiB) of the upload function. Default: - 1,024 MiB, 2,048 MiB for more than about 2 GB"""
    upload_ephemeral_storage_size: Size
    """``/tmp`` of the upload function (zip + data side by side). Default: - sized from the data, 512 MiB-10 GiB"""
    wait: ImportWait
    """How long the deployment holds for the job: ``ImportWait.within_deployment()`` (at most 1 hour),
    ``ImportWait.up_to(Duration.hours(8))`` (a wait condition, at most 12 hours) or ``ImportWait.do_not_wait()``.
    Default: - within_deployment"""


OPTION_NAMES = frozenset(ImportOptions.__annotations__)
