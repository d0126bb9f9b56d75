"""The emulated Personalize service: state, operations and fault injection (no HTTP here).

Behaviour modelled on the service as the Personalize developer guide and API reference describe it:
- every request is checked against botocore's model (``shapes.py``) → InvalidInputException;
- names are unique per account and region, forever for import jobs → ResourceAlreadyExistsException;
- at most 5 import jobs in CREATE PENDING / CREATE IN_PROGRESS → LimitExceededException;
- CreateDataset on a group, or CreateDatasetImportJob on a dataset, that is not ACTIVE → ResourceInUseException;
- unknown ARNs → ResourceNotFoundException;
- importMode INCREMENTAL on a dataset without an ACTIVE FULL import → InvalidInputException (``jobs.py``);
- a job goes CREATE PENDING > CREATE IN_PROGRESS > ACTIVE | CREATE FAILED on the virtual clock, and
  reads its data from S3 when it leaves IN_PROGRESS (``importer.py`` decides ACTIVE or the failureReason),
  with the access its role, the bucket policy and the bucket's KMS key policy give it (``access.py``);
- tags given at creation are kept; TagResource / UntagResource / ListTagsForResource (``tagging.py``);
- DeleteDataset / DeleteSchema / DeleteDatasetGroup refuse while something still uses the resource
  (an import job in flight, a dataset) → ResourceInUseException; deleting frees the name, but import
  jobs are never deleted (``catalog.py``, with the dataset group, schema and dataset operations).

Status is a function of virtual time: each request first settles every resource to ``clock()``.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tests.constants import ACCOUNT
from tests.emulator import importer, jobs
from tests.emulator.access import AccessModel
from tests.emulator.bulk_data import BulkData, rows_at
from tests.emulator.catalog import CatalogOperations
from tests.emulator.clock import VirtualClock
from tests.emulator.shapes import validation_errors, validation_message
from tests.emulator.state import (
    ACTIVE,
    DELETE_PENDING,
    FAILED,
    IN_FLIGHT,
    IN_PROGRESS,
    MAX_JOBS_IN_FLIGHT,
    PENDING,
    Fault,
    Job,
    JobTiming,
    Resource,
    ServiceError,
)
from tests.emulator.tagging import TagStore

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# Re-exported: tests and the World import these from here.
__all__ = [
    "ACCOUNT",
    "ACTIVE",
    "DELETE_PENDING",
    "FAILED",
    "IN_PROGRESS",
    "MAX_JOBS_IN_FLIGHT",
    "PENDING",
    "JobTiming",
    "PersonalizeEmulator",
    "ServiceError",
]


class PersonalizeEmulator(CatalogOperations):
    """One region of one account of Amazon Personalize, on a virtual clock."""

    def __init__(
        self, clock: VirtualClock, s3: S3Client, region: str = "eu-west-1", access: AccessModel | None = None
    ) -> None:
        self.clock = clock
        self.region = region
        self._s3 = s3
        # Who may read what; without a model of its own, nothing grants a job any access.
        self.access = access if access is not None else AccessModel(ACCOUNT, region)
        self._tags = TagStore()
        self._lock = threading.RLock()
        self.job_timing = JobTiming()
        self.dataset_group_seconds = 0.0
        self.dataset_seconds = 0.0
        self.delete_seconds = 0.0
        self._job_timings: dict[str, JobTiming] = {}
        self._groups: dict[str, Resource] = {}
        self._schemas: dict[str, Resource] = {}
        self._datasets: dict[str, Resource] = {}
        self._jobs: dict[str, Job] = {}
        # Per dataset (Resource.uid): what its ACTIVE import jobs left in it.
        self._bulk: dict[str, BulkData] = {}
        self._faults: list[Fault] = []
        # (virtual time, operation, job name or ARN if any) of every request received
        self.calls: list[tuple[float, str, str]] = []

    # -- fault injection and timing ----------------------------------------------------------
    def throttle(self, count: int, operations: set[str] | None = None, code: str = "ThrottlingException") -> None:
        """The next ``count`` requests (to ``operations``, or to any) fail with ``code``."""
        self.fail_next(code, "Rate exceeded", count=count, operations=operations)

    def fail_next(self, code: str, message: str, *, count: int = 1, operations: set[str] | None = None) -> None:
        with self._lock:
            self._faults.append(Fault(code, message, count, frozenset(operations) if operations else None))

    def hold_dataset(self, dataset_arn: str, seconds: float) -> None:
        """Keep a dataset in CREATE PENDING for ``seconds`` more of virtual time."""
        with self._lock:
            dataset = self._find(self._datasets, dataset_arn, "dataset")
            dataset.ready_at = self.clock() + seconds

    def set_job_timing(self, job_name: str, timing: JobTiming) -> None:
        """Timing for the job that will be (or was) created under ``job_name``; others use ``job_timing``."""
        with self._lock:
            self._job_timings[job_name] = timing

    def count(self, operation: str) -> int:
        return sum(1 for _, op, _ in self.calls if op == operation)

    def calls_for(self, operation: str, job_arn: str) -> int:
        """Requests of ``operation`` about one job (by its ARN, or by its name for CreateDatasetImportJob)."""
        name = job_arn.rsplit("/", 1)[-1]
        return sum(1 for _, op, subject in self.calls if op == operation and subject in (job_arn, name))

    def job_finished_at(self, job_arn: str) -> float | None:
        """Virtual time at which the job turned ACTIVE or CREATE FAILED (None while in flight)."""
        with self._lock:
            self._settle()
            return self._jobs[job_arn].finished

    # -- dispatch ------------------------------------------------------------------------------
    def handle(self, operation: str, params: Any) -> dict[str, Any]:
        """Run one request; raise ServiceError for an error response."""
        with self._lock:
            now = self.clock()
            subject = None
            if isinstance(params, dict):
                subject = params.get("datasetImportJobArn") or params.get("jobName") or params.get("resourceArn")
            self.calls.append((now, operation, str(subject or "")))
            for fault in self._faults:
                if fault.applies(operation):
                    fault.remaining -= 1
                    raise ServiceError(fault.code, fault.message)
            method: Callable[[dict[str, Any]], dict[str, Any]] | None = getattr(self, f"_op_{operation}", None)
            if method is None:
                raise ServiceError("UnknownOperationException", f"Operation {operation} is not supported")
            errors = validation_errors(operation, params)
            if errors:
                raise ServiceError("InvalidInputException", validation_message(errors))
            self._settle()
            return method(params)

    # -- virtual time -----------------------------------------------------------------------------
    def _settle(self) -> None:
        now = self.clock()
        for job in self._jobs.values():
            if job.outcome is None and now >= job.ends_at:
                self._finish(job)
        # After the jobs: a dataset is deleted only once none of its jobs is in flight.
        self._purge_deleted(now)

    def _finish(self, job: Job) -> None:
        dataset = self._datasets[job.request["datasetArn"]]
        schema = self._schemas[dataset.body["schemaArn"]]
        job.finished = job.ends_at
        try:
            importer.run_import(
                self._s3,
                job.request["dataSource"]["dataLocation"],
                schema.body["fields"],
                dataset.body["datasetType"],
                job.import_mode,
                gate=self.access.reader(job.request.get("roleArn")),
            )
        except importer.ImportError_ as error:
            job.outcome, job.failure_reason = FAILED, str(error)
            return
        job.outcome = ACTIVE
        # Only a job that ended ACTIVE changes what the dataset holds (a failed one leaves it as it was).
        bulk = self._bulk.setdefault(dataset.uid, BulkData(dataset.body["datasetType"]))
        bulk.apply(job.import_mode, rows_at(self._s3, job.request["dataSource"]["dataLocation"]))

    def bulk_data(self, dataset_arn: str) -> Counter[tuple[str, ...]]:
        """The records the dataset (as it exists now) holds from its import jobs, as a multiset."""
        dataset = self._datasets[dataset_arn]
        bulk = self._bulk.get(dataset.uid)
        return bulk.snapshot() if bulk is not None else Counter()

    # -- import jobs -------------------------------------------------------------------------------
    def _op_CreateDatasetImportJob(self, params: dict[str, Any]) -> dict[str, Any]:
        arn = self._arn("dataset-import-job", params["jobName"])
        self._unique(self._jobs, arn, "dataset import job")
        dataset: Resource = self._find(self._datasets, params["datasetArn"], "dataset")
        now = self.clock()
        if dataset.status(now) != ACTIVE:
            raise ServiceError("ResourceInUseException", f"Dataset {dataset.arn} is not in ACTIVE state")
        jobs.check_import_mode(self._jobs.values(), dataset, params.get("importMode", "FULL"))
        self._tags.check(arn, params.get("tags", []))
        in_flight = sum(1 for job in self._jobs.values() if job.status(now) in IN_FLIGHT)
        if in_flight >= MAX_JOBS_IN_FLIGHT:
            raise ServiceError(
                "LimitExceededException",
                f"More than {MAX_JOBS_IN_FLIGHT} resources with PENDING or IN_PROGRESS status.",
            )
        timing = self._job_timings.get(params["jobName"], self.job_timing)
        started = now + timing.pending
        request = json.loads(json.dumps(params))
        self._jobs[arn] = Job(arn, request, now, started, started + timing.running, dataset_uid=dataset.uid)
        self._tags.tag(arn, params.get("tags", []))
        return {"datasetImportJobArn": arn}

    def _op_DescribeDatasetImportJob(self, params: dict[str, Any]) -> dict[str, Any]:
        job: Job = self._find(self._jobs, params["datasetImportJobArn"], "dataset import job")
        return {"datasetImportJob": jobs.describe(job, self.clock())}

    def _op_ListDatasetImportJobs(self, params: dict[str, Any]) -> dict[str, Any]:
        return jobs.list_page(self._jobs.values(), params, self.clock())

    # -- tags ----------------------------------------------------------------------------------------
    def _taggable(self, arn: str) -> str:
        if not any(arn in table for table in (self._groups, self._datasets, self._jobs)):
            raise ServiceError("ResourceNotFoundException", f"Could not find the resource with ARN {arn}")
        return arn

    def _op_TagResource(self, params: dict[str, Any]) -> dict[str, Any]:
        self._tags.tag(self._taggable(params["resourceArn"]), params["tags"])
        return {}

    def _op_UntagResource(self, params: dict[str, Any]) -> dict[str, Any]:
        self._tags.untag(self._taggable(params["resourceArn"]), params["tagKeys"])
        return {}

    def _op_ListTagsForResource(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"tags": self._tags.listed(self._taggable(params["resourceArn"]))}
