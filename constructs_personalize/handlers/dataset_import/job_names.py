"""Derived job names: ``<JobNamePrefix>-<10 hex identity><6 hex generation>`` (docs/stack-life.md).

Personalize job names are unique per account and region and taken for good. The identity covers the
deployed stack instance (its StackId carries a unique id: two copies of a stack, or a stack deployed
again, never share a name) and exactly what is imported: dataset, data location, import mode, the
attribution flag, the local data's version and what the import builds on (for a FULL import, the FULL
import ordered before it, ``AfterJob``; for an INCREMENTAL one, the FULL job whose bulk data it is added
to). Not the role or the tags: replacing the role reads the same data, and tags are re-applied in place.

The generation is the CloudFormation request where importing again is right: a FULL import replaces the
dataset's bulk data, and an INCREMENTAL record of items, users or actions replaces the one with its id,
so data that returns to an earlier version (a revert, a rollback) is imported again under a new name,
while a retried request keeps its one job. An INCREMENTAL interactions batch has no generation:
interactions pile up, so one already added to the same bulk data is adopted, not added twice.
"""

from __future__ import annotations

import hashlib
import json

from . import contract
from .errors import ImportFailed

IDENTITY_HASH_CHARS = 10
GENERATION_HASH_CHARS = contract.JOB_NAME_HASH_CHARS - IDENTITY_HASH_CHARS


def derive_job_name(
    prefix: str,
    *,
    stack_id: str,
    dataset_arn: str,
    data_location: str,
    import_mode: str,
    publish_attribution_metrics_to_s3: bool | None,
    data_version: str,
    after_job: str = "",
    generation: str = "",
) -> str:
    """``<prefix>-<10 hex identity><6 hex generation>``: unique per stack instance, content and FULL generation."""
    if not stack_id:
        raise ImportFailed("the event has no StackId, so no job name can be derived; set job_name")
    identity: list[object] = [
        stack_id,
        dataset_arn,
        data_location,
        import_mode,
        bool(publish_attribution_metrics_to_s3),
        data_version,
    ]
    if after_job:
        identity.append(after_job)
    suffix = _digest(identity)[:IDENTITY_HASH_CHARS] + _digest([generation])[:GENERATION_HASH_CHARS]
    return f"{contract.clean_job_name_prefix(prefix)}-{suffix}"


def _digest(material: list[object]) -> str:
    return hashlib.sha256(json.dumps(material, separators=(",", ":")).encode("utf-8")).hexdigest()


def replaces_by_id(dataset_arn: str) -> bool:
    """Items, users and actions: an INCREMENTAL record replaces the one with its id, so importing a batch
    again is harmless and a reverted batch must be imported again. Interactions pile up instead."""
    return dataset_arn.rsplit("/", 1)[-1].upper() in ("ITEMS", "USERS", "ACTIONS")
