"""Dataset import jobs: the import-mode rule, their description and their listing.

Import modes (the API reference of CreateDatasetImportJob): FULL is the default and replaces the
dataset's bulk data; INCREMENTAL adds to it, so Personalize accepts it only on a dataset that
already had a bulk import, i.e. one with an ACTIVE FULL import job. Otherwise
CreateDatasetImportJob fails with InvalidInputException. A dataset deleted and created again under
the same name (so the same ARN) starts empty: the old dataset's jobs do not count.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tests.emulator.state import ACTIVE, FULL, IN_PROGRESS, INCREMENTAL, Job, Resource, ServiceError

SUMMARY_KEYS = ("datasetImportJobArn", "jobName", "status", "creationDateTime", "lastUpdatedDateTime", "importMode")


def check_import_mode(jobs: Iterable[Job], dataset: Resource, import_mode: str) -> None:
    if import_mode != INCREMENTAL:
        return
    bulk = [job for job in jobs if job.dataset_uid == dataset.uid and job.import_mode == FULL]
    if any(job.outcome == ACTIVE for job in bulk):
        return
    raise ServiceError(
        "InvalidInputException",
        f"Dataset {dataset.arn} has no bulk data: an INCREMENTAL import requires a previous bulk (FULL) import "
        "of the dataset that is ACTIVE. Import with importMode FULL first.",
    )


def describe(job: Job, now: float) -> dict[str, Any]:
    request = job.request
    status = job.status(now)
    description: dict[str, Any] = {
        "jobName": request["jobName"],
        "datasetImportJobArn": job.arn,
        "datasetArn": request["datasetArn"],
        "dataSource": dict(request["dataSource"]),
        "status": status,
        "importMode": job.import_mode,
        "creationDateTime": job.created,
        "lastUpdatedDateTime": job.finished or (job.started_at if status == IN_PROGRESS else job.created),
    }
    if "roleArn" in request:
        description["roleArn"] = request["roleArn"]
    if "publishAttributionMetricsToS3" in request:
        description["publishAttributionMetricsToS3"] = request["publishAttributionMetricsToS3"]
    if job.failure_reason:
        description["failureReason"] = job.failure_reason
    return description


def list_page(jobs: Iterable[Job], params: dict[str, Any], now: float) -> dict[str, Any]:
    """One page of ListDatasetImportJobs: oldest first, ``nextToken`` is the next index."""
    selected = [
        job
        for job in sorted(jobs, key=lambda j: (j.created, j.arn))
        if params.get("datasetArn") in (None, job.request["datasetArn"])
    ]
    start = 0
    if params.get("nextToken"):
        try:
            start = int(params["nextToken"])
        except ValueError:
            raise ServiceError("InvalidNextTokenException", "The next token is not valid") from None
    size = params.get("maxResults", 100)
    summaries = []
    for job in selected[start : start + size]:
        full = describe(job, now)
        summary = {key: full[key] for key in SUMMARY_KEYS}
        if "failureReason" in full:
            summary["failureReason"] = full["failureReason"]
        summaries.append(summary)
    result: dict[str, Any] = {"datasetImportJobs": summaries}
    if start + size < len(selected):
        result["nextToken"] = str(start + size)
    return result
