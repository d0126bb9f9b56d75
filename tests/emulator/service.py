"""The emulated Personalize service: state, operations and fault injection (no HTTP here).

Behaviour modelled on the service (PERSONALIZE_FACTS.md):
- every request is checked against botocore's model (``shapes.py``) → InvalidInputException;
- names are unique per account and region, forever for import jobs → ResourceAlreadyExistsException;
- at most 5 import jobs in CREATE PENDING / CREATE IN_PROGRESS → LimitExceededException;
- CreateDataset on a group, or CreateDatasetImportJob on a dataset, that is not ACTIVE → ResourceInUseException;
- unknown ARNs → ResourceNotFoundException;
- a job goes CREATE PENDING > CREATE IN_PROGRESS > ACTIVE | CREATE FAILED on the virtual clock, and
  reads its data from S3 when it leaves IN_PROGRESS (``importer.py`` decides ACTIVE or the failureReason).

Status is a function of virtual time: each request first settles every resource to ``clock()``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tests.emulator import importer
from tests.emulator.clock import VirtualClock
from tests.emulator.shapes import validation_errors, validation_message

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

ACCOUNT = "123456789012"
PENDING, IN_PROGRESS, ACTIVE, FAILED = "CREATE PENDING", "CREATE IN_PROGRESS", "ACTIVE", "CREATE FAILED"
IN_FLIGHT = frozenset({PENDING, IN_PROGRESS})
MAX_JOBS_IN_FLIGHT = 5
DATASET_TYPES = frozenset({"INTERACTIONS", "ITEMS", "USERS", "ACTIONS", "ACTION_INTERACTIONS"})


class ServiceError(Exception):
    """An error response: ``code`` becomes the JSON ``__type``."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


@dataclass(frozen=True)
class JobTiming:
    """How long an import job stays in each state, in virtual seconds."""

    pending: float = 30.0
    running: float = 300.0


@dataclass
class _Resource:
    arn: str
    name: str
    created: float
    ready_at: float  # CREATE PENDING until then, ACTIVE after
    body: dict[str, Any] = field(default_factory=dict)

    def status(self, now: float) -> str:
        return ACTIVE if now >= self.ready_at else PENDING


@dataclass
class _Job:
    arn: str
    request: dict[str, Any]
    created: float
    started_at: float  # CREATE IN_PROGRESS from here
    ends_at: float  # terminal from here
    outcome: str | None = None  # ACTIVE or CREATE FAILED once settled
    failure_reason: str | None = None
    finished: float | None = None

    def status(self, now: float) -> str:
        if self.outcome is not None:
            return self.outcome
        return PENDING if now < self.started_at else IN_PROGRESS


@dataclass
class _Fault:
    code: str
    message: str
    remaining: int
    operations: frozenset[str] | None

    def applies(self, operation: str) -> bool:
        return self.remaining > 0 and (self.operations is None or operation in self.operations)


class PersonalizeEmulator:
    """One region of one account of Amazon Personalize, on a virtual clock."""

    def __init__(self, clock: VirtualClock, s3: S3Client, region: str = "eu-west-1") -> None:
        self.clock = clock
        self.region = region
        self._s3 = s3
        self._lock = threading.RLock()
        self.job_timing = JobTiming()
        self.dataset_group_seconds = 0.0
        self.dataset_seconds = 0.0
        self._job_timings: dict[str, JobTiming] = {}
        self._groups: dict[str, _Resource] = {}
        self._schemas: dict[str, _Resource] = {}
        self._datasets: dict[str, _Resource] = {}
        self._jobs: dict[str, _Job] = {}
        self._faults: list[_Fault] = []
        # (virtual time, operation, job name or ARN if any) of every request received
        self.calls: list[tuple[float, str, str]] = []

    # -- fault injection and timing ----------------------------------------------------------
    def throttle(self, count: int, operations: set[str] | None = None, code: str = "ThrottlingException") -> None:
        """The next ``count`` requests (to ``operations``, or to any) fail with ``code``."""
        self.fail_next(code, "Rate exceeded", count=count, operations=operations)

    def fail_next(self, code: str, message: str, *, count: int = 1, operations: set[str] | None = None) -> None:
        with self._lock:
            self._faults.append(_Fault(code, message, count, frozenset(operations) if operations else None))

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
            subject = params.get("datasetImportJobArn") or params.get("jobName") if isinstance(params, dict) else None
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

    # -- helpers -------------------------------------------------------------------------------
    def _arn(self, kind: str, name: str) -> str:
        return f"arn:aws:personalize:{self.region}:{ACCOUNT}:{kind}/{name}"

    @staticmethod
    def _find(table: dict[str, Any], arn: str, what: str) -> Any:
        found = table.get(arn)
        if found is None:
            raise ServiceError("ResourceNotFoundException", f"Could not find the {what} with ARN {arn}")
        return found

    @staticmethod
    def _unique(table: dict[str, Any], arn: str, what: str) -> None:
        if arn in table:
            raise ServiceError("ResourceAlreadyExistsException", f"A {what} with ARN {arn} already exists")

    def _settle(self) -> None:
        now = self.clock()
        for job in self._jobs.values():
            if job.outcome is None and now >= job.ends_at:
                self._finish(job)

    def _finish(self, job: _Job) -> None:
        dataset = self._datasets[job.request["datasetArn"]]
        schema = self._schemas[dataset.body["schemaArn"]]
        job.finished = job.ends_at
        try:
            importer.run_import(
                self._s3,
                job.request["dataSource"]["dataLocation"],
                schema.body["fields"],
                dataset.body["datasetType"],
                job.request.get("importMode", "FULL"),
            )
        except importer.ImportError_ as error:
            job.outcome, job.failure_reason = FAILED, str(error)
            return
        job.outcome = ACTIVE

    # -- dataset groups --------------------------------------------------------------------------
    def _op_CreateDatasetGroup(self, params: dict[str, Any]) -> dict[str, Any]:
        arn = self._arn("dataset-group", params["name"])
        self._unique(self._groups, arn, "dataset group")
        now = self.clock()
        body = {"name": params["name"], "domain": params.get("domain")}
        self._groups[arn] = _Resource(arn, params["name"], now, now + self.dataset_group_seconds, body)
        result = {"datasetGroupArn": arn}
        if params.get("domain"):
            result["domain"] = params["domain"]
        return result

    def _op_DescribeDatasetGroup(self, params: dict[str, Any]) -> dict[str, Any]:
        group: _Resource = self._find(self._groups, params["datasetGroupArn"], "dataset group")
        now = self.clock()
        description = {
            "name": group.name,
            "datasetGroupArn": group.arn,
            "status": group.status(now),
            "creationDateTime": group.created,
            "lastUpdatedDateTime": max(group.created, min(now, group.ready_at)),
        }
        if group.body.get("domain"):
            description["domain"] = group.body["domain"]
        return {"datasetGroup": description}

    # -- schemas -----------------------------------------------------------------------------------
    def _op_CreateSchema(self, params: dict[str, Any]) -> dict[str, Any]:
        arn = self._arn("schema", params["name"])
        self._unique(self._schemas, arn, "schema")
        try:
            fields = importer.parse_schema(params["schema"])
        except ValueError as error:
            raise ServiceError("InvalidInputException", f"Invalid schema: {error}") from error
        now = self.clock()
        body = {"schema": params["schema"], "domain": params.get("domain"), "fields": fields}
        self._schemas[arn] = _Resource(arn, params["name"], now, now, body)
        return {"schemaArn": arn}

    def _op_DescribeSchema(self, params: dict[str, Any]) -> dict[str, Any]:
        schema: _Resource = self._find(self._schemas, params["schemaArn"], "schema")
        description = {
            "name": schema.name,
            "schemaArn": schema.arn,
            "schema": schema.body["schema"],
            "creationDateTime": schema.created,
            "lastUpdatedDateTime": schema.created,
        }
        if schema.body.get("domain"):
            description["domain"] = schema.body["domain"]
        return {"schema": description}

    # -- datasets ----------------------------------------------------------------------------------
    def _op_CreateDataset(self, params: dict[str, Any]) -> dict[str, Any]:
        group: _Resource = self._find(self._groups, params["datasetGroupArn"], "dataset group")
        self._find(self._schemas, params["schemaArn"], "schema")
        dataset_type = params["datasetType"].upper()
        if dataset_type not in DATASET_TYPES:
            raise ServiceError(
                "InvalidInputException",
                f"Invalid datasetType {params['datasetType']!r}: use one of {', '.join(sorted(DATASET_TYPES))}",
            )
        if group.status(self.clock()) != ACTIVE:
            raise ServiceError("ResourceInUseException", f"Dataset group {group.arn} is not in ACTIVE state")
        arn = self._arn("dataset", f"{group.name}/{dataset_type}")
        self._unique(self._datasets, arn, "dataset")
        now = self.clock()
        body = {"schemaArn": params["schemaArn"], "datasetGroupArn": group.arn, "datasetType": dataset_type}
        self._datasets[arn] = _Resource(arn, params["name"], now, now + self.dataset_seconds, body)
        return {"datasetArn": arn}

    def _op_DescribeDataset(self, params: dict[str, Any]) -> dict[str, Any]:
        dataset: _Resource = self._find(self._datasets, params["datasetArn"], "dataset")
        now = self.clock()
        return {
            "dataset": {
                "name": dataset.name,
                "datasetArn": dataset.arn,
                "datasetGroupArn": dataset.body["datasetGroupArn"],
                "datasetType": dataset.body["datasetType"],
                "schemaArn": dataset.body["schemaArn"],
                "status": dataset.status(now),
                "creationDateTime": dataset.created,
                "lastUpdatedDateTime": max(dataset.created, min(now, dataset.ready_at)),
            }
        }

    # -- import jobs -------------------------------------------------------------------------------
    def _op_CreateDatasetImportJob(self, params: dict[str, Any]) -> dict[str, Any]:
        arn = self._arn("dataset-import-job", params["jobName"])
        self._unique(self._jobs, arn, "dataset import job")
        dataset: _Resource = self._find(self._datasets, params["datasetArn"], "dataset")
        now = self.clock()
        if dataset.status(now) != ACTIVE:
            raise ServiceError("ResourceInUseException", f"Dataset {dataset.arn} is not in ACTIVE state")
        in_flight = sum(1 for job in self._jobs.values() if job.status(now) in IN_FLIGHT)
        if in_flight >= MAX_JOBS_IN_FLIGHT:
            raise ServiceError(
                "LimitExceededException",
                f"More than {MAX_JOBS_IN_FLIGHT} resources with PENDING or IN_PROGRESS status.",
            )
        timing = self._job_timings.get(params["jobName"], self.job_timing)
        started = now + timing.pending
        self._jobs[arn] = _Job(arn, json.loads(json.dumps(params)), now, started, started + timing.running)
        return {"datasetImportJobArn": arn}

    def _op_DescribeDatasetImportJob(self, params: dict[str, Any]) -> dict[str, Any]:
        job: _Job = self._find(self._jobs, params["datasetImportJobArn"], "dataset import job")
        return {"datasetImportJob": self._job_description(job)}

    def _job_description(self, job: _Job) -> dict[str, Any]:
        now = self.clock()
        request = job.request
        status = job.status(now)
        description: dict[str, Any] = {
            "jobName": request["jobName"],
            "datasetImportJobArn": job.arn,
            "datasetArn": request["datasetArn"],
            "dataSource": dict(request["dataSource"]),
            "status": status,
            "importMode": request.get("importMode", "FULL"),
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

    def _op_ListDatasetImportJobs(self, params: dict[str, Any]) -> dict[str, Any]:
        jobs = [
            job
            for job in sorted(self._jobs.values(), key=lambda j: (j.created, j.arn))
            if params.get("datasetArn") in (None, job.request["datasetArn"])
        ]
        start = 0
        if params.get("nextToken"):
            try:
                start = int(params["nextToken"])
            except ValueError:
                raise ServiceError("InvalidNextTokenException", "The next token is not valid") from None
        size = params.get("maxResults", 100)
        page = jobs[start : start + size]
        summaries = []
        for job in page:
            full = self._job_description(job)
            keys = ("datasetImportJobArn", "jobName", "status", "creationDateTime", "lastUpdatedDateTime")
            summary = {key: full[key] for key in keys}
            summary["importMode"] = full["importMode"]
            if "failureReason" in full:
                summary["failureReason"] = full["failureReason"]
            summaries.append(summary)
        result: dict[str, Any] = {"datasetImportJobs": summaries}
        if start + size < len(jobs):
            result["nextToken"] = str(start + size)
        return result
