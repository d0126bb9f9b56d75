"""The jobs a dataset has already: what an INCREMENTAL batch adds to, and whether a job may be adopted.

Personalize job names are permanent, so a job of the requested name is either this request's own (a
retried event, an unchanged update) or a collision that must fail the deployment, not be reported ACTIVE.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from . import contract
from .errors import ImportFailed, error_code, error_message
from .request import Event, ImportRequest

if TYPE_CHECKING:
    from mypy_boto3_personalize import PersonalizeClient


def latest_full_job(client: PersonalizeClient, dataset_arn: str) -> str:
    """The name of the dataset's FULL job that ended ACTIVE last: the bulk data an INCREMENTAL batch adds to.

    A batch added after this job is in the dataset; one added before a later FULL import is gone.
    """
    latest: tuple[Any, str] | None = None
    try:
        for page in client.get_paginator("list_dataset_import_jobs").paginate(datasetArn=dataset_arn):
            for job in page.get("datasetImportJobs", []):
                if job.get("status") == contract.ACTIVE and job.get("importMode", contract.FULL) == contract.FULL:
                    candidate = (job.get("lastUpdatedDateTime"), str(job.get("jobName", "")))
                    if latest is None or candidate > latest:
                        latest = candidate
    except ClientError as error:
        raise ImportFailed(
            f"ListDatasetImportJobs failed for {dataset_arn!r} with {error_code(error)}: {error_message(error)}"
        ) from error
    return latest[1] if latest is not None else ""


def check_inputs(request: ImportRequest, job: Mapping[str, Any]) -> None:
    """Refuse a job of this name that imports something else."""
    mismatches = request.mismatches(job)
    if not mismatches:
        return
    advice = (
        "set a new job_name, or omit job_name so DatasetImport derives one from the inputs."
        if request.explicit_name
        else "the derived name collided; set job_name explicitly."
    )
    raise ImportFailed(
        f"dataset import job name {request.job_name!r} is already used by a job with different inputs "
        f"({'; '.join(mismatches)}). Personalize job names are permanent and cannot be reused: {advice}"
    )


def check_same_dataset(client: PersonalizeClient, request: ImportRequest, job: Mapping[str, Any]) -> None:
    """Refuse a job that imported into an earlier dataset of the same ARN (deleted and created again).

    Its inputs match, but its data went into the dataset that was deleted: reporting it ACTIVE would
    leave the new dataset empty. Job names are permanent, so only a new name imports again.
    """
    try:
        dataset = client.describe_dataset(datasetArn=request.dataset_arn)["dataset"]
    except ClientError as error:
        raise ImportFailed(
            f"DescribeDataset failed for {request.dataset_arn!r} with {error_code(error)}: {error_message(error)}"
        ) from error
    job_created, dataset_created = job.get("creationDateTime"), dataset.get("creationDateTime")
    if job_created is not None and dataset_created is not None and job_created < dataset_created:
        raise ImportFailed(
            f"dataset import job name {request.job_name!r} is taken by a job of an earlier dataset with the same "
            f"ARN (job created {job_created}, dataset created {dataset_created}): its data is not in this "
            "dataset. Personalize job names are permanent: set a new job_name, or omit job_name (derived names "
            "include the deployed stack instance)."
        )


def check_data_unchanged(event: Event, request: ImportRequest) -> None:
    """Under an explicit job name, changed local data cannot be imported: the name is the job's for good."""
    if not request.explicit_name:
        return  # a derived name covers the data's version: changed data is another job
    old = (event.get("OldResourceProperties") or {}).get(contract.DATA_VERSION)
    new = (event.get("ResourceProperties") or {}).get(contract.DATA_VERSION)
    if old and new and old != new:
        raise ImportFailed(
            f"the local data of dataset import job {request.job_name!r} changed (data version {old} -> {new}), but "
            "its job_name did not: Personalize job names are permanent, so the new data cannot be imported under "
            "it. Set a new job_name, or omit job_name so DatasetImport derives one from the data"
        )


def full_in_flight(client: PersonalizeClient, job_arn: str) -> str:
    """Why an INCREMENTAL import must not start yet: its FULL import's job is still running ('' when not).

    The library orders the imports of a dataset, but a rollback with long waits does not wait for a FULL
    import's new job; a batch added before that job ends would be replaced by it.
    """
    try:
        status = str(client.describe_dataset_import_job(datasetImportJobArn=job_arn)["datasetImportJob"]["status"])
    except ClientError as error:
        code = error_code(error)
        return f"FULL import job {job_arn} not described ({code})" if code in contract.WAIT_CODES else ""
    if status in contract.TERMINAL_STATUSES:
        return ""
    return f"waiting for FULL import job {job_arn.rsplit('/', 1)[1]} ({status})"
