"""Custom resource handler: run an Amazon Personalize dataset import job during ``cdk deploy``.

Runs in AWS Lambda behind the CDK Provider framework. Standard library + boto3 only: this
module is shipped as a Lambda asset and must not import anything from ``constructs_personalize``.

``on_event`` starts the job (or defers the start while the service asks us to wait) and returns
the job ARN as the physical id. ``is_complete`` is called every query interval with the original
event merged with ``on_event``'s result. It is stateless: every poll describes the job, starts it if
it does not exist yet, and reports complete once the job is ACTIVE. Any exception raised here fails
the deployment at once, so every "wait and try again" condition returns ``IsComplete: False``.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
import os
import re
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_personalize import PersonalizeClient

Event = Mapping[str, Any]
Response = dict[str, Any]

ACTIVE = "ACTIVE"
CREATE_FAILED = "CREATE FAILED"
TERMINAL_STATUSES = frozenset({ACTIVE, CREATE_FAILED})

# The service asks us to wait with these codes: the 5-jobs-in-flight quota and throttling both
# arrive as LimitExceededException; ResourceInUseException means the dataset is not ACTIVE yet.
WAIT_CODES = frozenset(
    {
        "LimitExceededException",
        "ResourceInUseException",
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalServerError",
        "InternalFailure",
    }
)
# A start the service asked to wait for; "deferred: LimitExceededException" is the 5-jobs quota (or throttling).
DEFERRED = "deferred"
QUOTA_ADVICE = (
    "Personalize runs at most 5 import jobs per account and region at once (a quota that cannot be raised, "
    "shared with every stack and person there), and every slot stayed busy."
)

# CloudFormation rejects responses over 4,096 bytes. The framework adds the stack id, request id,
# logical and physical ids and a JavaScript stack trace to our message, so the message keeps to half.
MAX_MESSAGE_BYTES = 2048
TRUNCATION_MARK = " [...truncated]"

# Keys added to on_event's result; the framework passes them to every is_complete call.
DEADLINE_KEY = "ImportWaitDeadline"
STARTED_KEY = "ImportStartTriedAt"
# Set when on_event found the job name taken: the job may belong to an earlier dataset of the same ARN.
ADOPTED_KEY = "ImportJobExisted"
# Set when on_event created the job: a mode that does not wait for the end can complete at once.
CREATED_KEY = "ImportJobCreated"
# The FULL job an INCREMENTAL import's name was derived with (found by on_event, kept for is_complete).
BASE_KEY = "ImportBaseJob"
# How the deployment waits (property WaitMode): COMPLETION here (at most 1 hour), SIGNAL through a
# WaitCondition that the waiter state machine signals (at most 12 hours), NONE not at all.
WAIT_MODES = frozenset({"COMPLETION", "SIGNAL", "NONE"})
# The waiter signals a minute before the WaitCondition's own Timeout, so its failure names the job;
# it shortens its last wait to land on that deadline, whatever the query interval.
SIGNAL_MARGIN_SECONDS = 60.0
# Wait condition data is documented up to 4,096 bytes: the whole signal body, as sent, keeps to it.
MAX_SIGNAL_BYTES = 4096
# The framework calls is_complete right after on_event. If on_event just created the job, it is
# still CREATE PENDING (imports take minutes); if the service just asked us to wait (quota,
# dataset not ACTIVE), asking again a second later is pointless. Either way that first poll
# answers without a call, so the deployment makes at most one Describe per query interval.
FRESH_START_SECONDS = 10.0
# Set by the construct: total_timeout minus two query intervals, so we stop waiting (with a
# useful message) before the framework's own "Operation timed out".
WAIT_BUDGET_ENV = "WAIT_BUDGET_SECONDS"
DEFAULT_WAIT_BUDGET_SECONDS = 3300.0

# Derived job names: <JobNamePrefix>-<10 hex identity><6 hex generation>. Personalize job names are
# unique per account and region and taken for good. The identity covers the deployed stack instance
# (its StackId carries a unique id: two copies of a stack, or a stack deployed again, never share a
# name) and exactly what is imported: dataset, data location, import mode, the attribution flag, the
# local data's version and, for an INCREMENTAL import, the job of the FULL import it adds to
# (AfterJob). Not the role or the tags: replacing the role reads the same data, and tags are
# re-applied in place. The generation is the CloudFormation request for FULL imports: a FULL import
# replaces the dataset's bulk data, so data that returns to an earlier version (a revert, a rollback)
# must be imported again under a new name, while a retried request keeps its one job. An INCREMENTAL
# batch has no generation: one already added after the same FULL job is adopted, not added twice.
JOB_NAME_MAX = 63
JOB_NAME_HASH_CHARS = 16
IDENTITY_HASH_CHARS = 10
_UNSAFE_NAME_CHARS = re.compile(r"[^a-zA-Z0-9\-_]+")


class SignalFailed(Exception):
    """The wait condition could not be signalled; the waiter state machine retries the step."""


class ImportFailed(Exception):
    """The deployment must fail; the message is what CloudFormation shows."""

    def __init__(self, message: str) -> None:
        super().__init__(truncate(message))


def _json_size(text: str) -> int:
    # Bytes the text takes inside the framework's JSON response (Node's JSON.stringify leaves
    # non-ASCII as UTF-8 but escapes quotes, backslashes and control characters).
    return len(json.dumps(text, ensure_ascii=False).encode("utf-8")) - 2


def truncate(message: str, limit: int = MAX_MESSAGE_BYTES, size: Callable[[str], int] = _json_size) -> str:
    """Cut ``message`` so its ``size`` (default: JSON-encoded UTF-8 bytes) is at most ``limit``, marking the cut."""
    if size(message) <= limit:
        return message
    budget = limit - size(TRUNCATION_MARK)
    low, high = 0, len(message)
    while low < high:  # the longest prefix that fits
        mid = (low + high + 1) // 2
        if size(message[:mid]) <= budget:
            low = mid
        else:
            high = mid - 1
    return message[:low] + TRUNCATION_MARK


def _as_bool(name: str, value: Any) -> bool:
    # CloudFormation sends every property as a string.
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "false"):
        return text == "true"
    raise ImportFailed(f"property {name} must be 'true' or 'false', got {value!r}")


def _required(props: Mapping[str, Any], name: str) -> str:
    value = props.get(name)
    if not isinstance(value, str) or not value:
        raise ImportFailed(f"property {name} is required and must be a non-empty string, got {value!r}")
    return value


@dataclass(frozen=True)
class WaitSettings:
    """How the deployment waits for the job (not part of the job's identity)."""

    mode: str = "COMPLETION"
    handle: str = ""
    state_machine_arn: str = ""
    timeout_seconds: float = 0.0
    interval_seconds: float = 30.0

    @classmethod
    def from_properties(cls, props: Mapping[str, Any]) -> WaitSettings:
        mode = str(props.get("WaitMode") or "COMPLETION").upper()
        if mode not in WAIT_MODES:
            raise ImportFailed(f"property WaitMode must be one of {sorted(WAIT_MODES)}, got {mode!r}")
        if mode != "SIGNAL":
            return cls(mode)
        try:
            timeout = float(props.get("WaitTimeoutSeconds", ""))
            interval = float(props.get("WaitIntervalSeconds", ""))
        except ValueError as error:
            raise ImportFailed(
                f"properties WaitTimeoutSeconds and WaitIntervalSeconds must be numbers: {error}"
            ) from error
        return cls(mode, _required(props, "WaitHandle"), _required(props, "WaiterStateMachineArn"), timeout, interval)


@dataclass(frozen=True)
class ImportRequest:
    """The custom resource properties, converted back from CloudFormation's strings."""

    job_name: str
    dataset_arn: str
    role_arn: str
    data_location: str
    import_mode: str
    publish_attribution_metrics_to_s3: bool | None
    tags: tuple[tuple[str, str], ...]
    # False when the name was derived (JobNamePrefix): a replaced role then reads the same data.
    explicit_name: bool = True
    wait: WaitSettings = WaitSettings()
    # The job of the FULL import ordered before this one in the stack (property AfterJob; empty when none).
    after_job: str = ""
    # INCREMENTAL: the dataset's latest ACTIVE FULL job when the request arrived (what the batch adds to).
    base: str = ""

    @classmethod
    def from_properties(
        cls, props: Mapping[str, Any], stack_id: str = "", request_id: str = "", base: str = ""
    ) -> ImportRequest:
        mode = str(props.get("ImportMode") or "FULL").upper()
        if mode not in ("FULL", "INCREMENTAL"):
            raise ImportFailed(f"property ImportMode must be FULL or INCREMENTAL, got {mode!r}")
        publish = props.get("PublishAttributionMetricsToS3")
        raw_tags = props.get("Tags") or []
        if not isinstance(raw_tags, list):
            raise ImportFailed(f"property Tags must be a list of {{Key, Value}}, got {raw_tags!r}")
        tags = []
        for tag in raw_tags:
            if not isinstance(tag, Mapping) or "Key" not in tag:
                raise ImportFailed(f"property Tags must be a list of {{Key, Value}}, got item {tag!r}")
            tags.append((str(tag["Key"]), str(tag.get("Value", ""))))
        dataset_arn = _required(props, "DatasetArn")
        data_location = _required(props, "DataLocation")
        flag = None if publish in (None, "") else _as_bool("PublishAttributionMetricsToS3", publish)
        after_job = str(props.get("AfterJob") or "")
        # A derived name comes as JobNamePrefix (+ DataVersion); with neither, JobName is what is missing.
        explicit = "JobNamePrefix" not in props or props.get("JobName") not in (None, "")
        if explicit:
            job_name = _required(props, "JobName")
        else:
            job_name = derive_job_name(
                _required(props, "JobNamePrefix"),
                stack_id=stack_id,
                dataset_arn=dataset_arn,
                data_location=data_location,
                import_mode=mode,
                publish_attribution_metrics_to_s3=flag,
                data_version=str(props.get("DataVersion") or ""),
                # A FULL import follows the FULL import before it: when that one imports again, it must too.
                # An INCREMENTAL batch belongs to the bulk data it was added to, wherever that came from.
                after_job=after_job if mode == "FULL" else base,
                generation=request_id if mode == "FULL" else "",
            )
        return cls(
            job_name=job_name,
            dataset_arn=dataset_arn,
            role_arn=_required(props, "RoleArn"),
            data_location=data_location,
            import_mode=mode,
            publish_attribution_metrics_to_s3=flag,
            tags=tuple(tags),
            explicit_name=explicit,
            wait=WaitSettings.from_properties(props),
            after_job=after_job,
            base=base,
        )

    @classmethod
    def from_event(cls, event: Event, properties_key: str = "ResourceProperties") -> ImportRequest:
        return cls.from_properties(
            event.get(properties_key) or {},
            stack_id=str(event.get("StackId") or ""),
            request_id=str(event.get("RequestId") or ""),
            base=str(event.get(BASE_KEY) or ""),
        )

    @property
    def needs_base(self) -> bool:
        return self.import_mode == "INCREMENTAL" and not self.explicit_name

    def for_job(self, job_arn: str) -> ImportRequest:
        """This request, naming the job ``job_arn`` (the resource's current job, made by an earlier request)."""
        if not _is_job_arn(job_arn):
            return self
        return dataclasses.replace(self, job_name=job_arn.rsplit("/", 1)[1])

    def made(self, job_arn: str) -> bool:
        """Whether the job ``job_arn`` was made for exactly what this request imports (any generation)."""
        if not _is_job_arn(job_arn):
            return False
        if self.explicit_name:
            return job_arn == self.job_arn
        name = job_arn.rsplit("/", 1)[1]
        generation_chars = JOB_NAME_HASH_CHARS - IDENTITY_HASH_CHARS
        return len(name) == len(self.job_name) and name[:-generation_chars] == self.job_name[:-generation_chars]

    @property
    def job_arn(self) -> str:
        # Job ARNs are arn:<partition>:personalize:<region>:<account>:dataset-import-job/<name>;
        # knowing it before the job exists keeps is_complete stateless.
        parts = self.dataset_arn.split(":", 5)
        if len(parts) < 6:
            raise ImportFailed(f"property DatasetArn is not an ARN: {self.dataset_arn!r}")
        partition, region, account = parts[1], parts[3], parts[4]
        return f"arn:{partition}:personalize:{region}:{account}:dataset-import-job/{self.job_name}"

    def create_arguments(self) -> dict[str, Any]:
        args: dict[str, Any] = {
            "jobName": self.job_name,
            "datasetArn": self.dataset_arn,
            "dataSource": {"dataLocation": self.data_location},
            "roleArn": self.role_arn,
            "importMode": self.import_mode,
        }
        if self.publish_attribution_metrics_to_s3 is not None:
            args["publishAttributionMetricsToS3"] = self.publish_attribution_metrics_to_s3
        if self.tags:
            args["tags"] = [{"tagKey": k, "tagValue": v} for k, v in self.tags]
        return args

    def mismatches(self, job: Mapping[str, Any]) -> list[str]:
        """Inputs of an existing job with this name that differ from this request."""
        found = {
            "datasetArn": job.get("datasetArn"),
            "dataLocation": (job.get("dataSource") or {}).get("dataLocation"),
            "importMode": job.get("importMode"),
            "publishAttributionMetricsToS3": job.get("publishAttributionMetricsToS3"),
        }
        wanted: dict[str, object] = {
            "datasetArn": self.dataset_arn,
            "dataLocation": self.data_location,
            "importMode": self.import_mode,
            # Not sent means the service default, false.
            "publishAttributionMetricsToS3": bool(self.publish_attribution_metrics_to_s3),
        }
        if self.explicit_name:
            found["roleArn"], wanted["roleArn"] = job.get("roleArn"), self.role_arn
        # A field the service did not return cannot be compared; it is not a mismatch.
        return [
            f"{key}: existing {found[key]!r}, requested {wanted[key]!r}"
            for key in wanted
            if found[key] is not None and found[key] != wanted[key]
        ]


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
    generation_hash = _digest([generation])[: JOB_NAME_HASH_CHARS - IDENTITY_HASH_CHARS]
    suffix = _digest(identity)[:IDENTITY_HASH_CHARS] + generation_hash
    readable = _UNSAFE_NAME_CHARS.sub("-", prefix).strip("-_")[: JOB_NAME_MAX - JOB_NAME_HASH_CHARS - 1]
    readable = readable.rstrip("-_") or "import"
    if not readable[0].isalnum():
        readable = "import"
    return f"{readable}-{suffix}"


def _digest(material: list[object]) -> str:
    return hashlib.sha256(json.dumps(material, separators=(",", ":")).encode("utf-8")).hexdigest()


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _error_message(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Message", "")) or str(error)


def _is_job_arn(value: str) -> bool:
    return value.startswith("arn:") and ":dataset-import-job/" in value


class DatasetImportHandler:
    """The lifecycle logic, with the client, clock and log sink injected for tests."""

    def __init__(
        self,
        client: PersonalizeClient,
        *,
        start_client: PersonalizeClient | None = None,
        clock: Callable[[], float] = time.time,
        wait_budget_seconds: float = DEFAULT_WAIT_BUDGET_SECONDS,
        emit: Callable[[str], None] = print,
        start_waiter: Callable[[str, str, str], None] | None = None,
        signal: Callable[[str, Mapping[str, str]], None] | None = None,
        stop_waiter: Callable[[str], None] | None = None,
    ) -> None:
        self._client = client
        self._start_client = start_client or client
        self._clock = clock
        self._wait_budget = wait_budget_seconds
        self._emit = emit
        self._start_waiter = start_waiter or _start_execution
        self._signal = signal or _put_signal
        self._stop = stop_waiter or _stop_execution

    # -- logging ---------------------------------------------------------------------------
    def _log(self, event: Event, decision: str, **fields: Any) -> None:
        # One JSON line per decision. Never the ResponseURL: it is a presigned URL that lets
        # anyone answer for this resource.
        record = {
            "decision": decision,
            "requestType": event.get("RequestType"),
            "logicalResourceId": event.get("LogicalResourceId"),
            "physicalResourceId": event.get("PhysicalResourceId"),
            **fields,
        }
        self._emit(json.dumps(record, default=str, sort_keys=True))

    def _deadline(self, event: Event) -> float:
        # Set by on_event; an event without it (e.g. from an older handler) gets a fresh budget.
        return float(event.get(DEADLINE_KEY) or self._clock() + self._wait_budget)

    # -- on_event --------------------------------------------------------------------------
    def on_event(self, event: Event) -> Response:
        request_type = event.get("RequestType")
        deadline = self._clock() + self._wait_budget
        if request_type == "Delete":
            physical_id = str(event.get("PhysicalResourceId", ""))
            self._log(event, "delete-requested", waitDeadline=deadline)
            self._stop_deleted_waiter(event, physical_id)
            return {"PhysicalResourceId": physical_id, DEADLINE_KEY: deadline}
        request = ImportRequest.from_event(event)
        base: Response = {}
        if request_type in ("Create", "Update") and request.needs_base:
            base = {BASE_KEY: self._latest_full_job(request.dataset_arn)}
            request = ImportRequest.from_event({**event, **base})
        if request_type == "Update":
            physical_id = str(event.get("PhysicalResourceId", ""))
            self._stop_replaced_waiter(event, request)
            if request.made(physical_id):
                # The resource's job was made for exactly these inputs (only tags, the role or the wait
                # changed; or a rollback back to the job the dataset still holds): nothing to start.
                # Tags are re-applied; is_complete compares the inputs with the job's.
                request = request.for_job(physical_id)
                self._retag(event, request)
                self._log(event, "update-same-job", jobName=request.job_name)
                return {"PhysicalResourceId": physical_id, DEADLINE_KEY: deadline, **base}
        elif request_type != "Create":
            raise ImportFailed(f"unknown RequestType {request_type!r}")
        result: Response = {"PhysicalResourceId": request.job_arn, DEADLINE_KEY: deadline, **base}
        outcome = self._start(event, request)
        if outcome == "exists":
            result[ADOPTED_KEY] = True
        else:
            result[STARTED_KEY] = self._clock()
            if outcome == "started":
                result[CREATED_KEY] = True
        return result

    def _latest_full_job(self, dataset_arn: str) -> str:
        """The name of the dataset's FULL job that ended ACTIVE last: the bulk data an INCREMENTAL batch adds to.

        A batch added after this job is in the dataset; one added before a later FULL import is gone.
        """
        latest: tuple[Any, str] | None = None
        try:
            for page in self._client.get_paginator("list_dataset_import_jobs").paginate(datasetArn=dataset_arn):
                for job in page.get("datasetImportJobs", []):
                    if job.get("status") == ACTIVE and job.get("importMode", "FULL") == "FULL":
                        candidate = (job.get("lastUpdatedDateTime"), str(job.get("jobName", "")))
                        if latest is None or candidate > latest:
                            latest = candidate
        except ClientError as error:
            raise ImportFailed(
                f"ListDatasetImportJobs failed for {dataset_arn!r} with {_error_code(error)}: {_error_message(error)}"
            ) from error
        return latest[1] if latest is not None else ""

    def _stop_replaced_waiter(self, event: Event, request: ImportRequest) -> None:
        """An update that moves to another wait condition handle: the old handle's waiter has nobody to tell."""
        try:
            old = ImportRequest.from_event(event, "OldResourceProperties")
        except ImportFailed:
            return
        if old.wait.mode == "SIGNAL" and old.wait.handle != request.wait.handle:
            self._stop_waiter(event, old.for_job(str(event.get("PhysicalResourceId", ""))))

    def _stop_deleted_waiter(self, event: Event, physical_id: str) -> None:
        """A deleted (or rolled back) import's wait condition is gone: its waiter must not poll for hours."""
        try:
            request = ImportRequest.from_event(event)
        except ImportFailed:
            return
        if request.wait.mode == "SIGNAL":
            self._stop_waiter(event, request.for_job(physical_id))

    def _stop_waiter(self, event: Event, request: ImportRequest) -> None:
        """Stop the long waiter of ``request``'s job and handle; it never fails the stack operation."""
        execution = waiter_execution_arn(request.wait.state_machine_arn, waiter_execution_name(request))
        if not execution:
            return
        try:
            self._stop(execution)
        except Exception as error:  # noqa: BLE001 - a waiter left running only polls; never block the stack
            self._log(event, "waiter-stop-failed", execution=execution, error=f"{type(error).__name__}: {error}")
            return
        self._log(event, "waiter-stopped", execution=execution)

    def _retag(self, event: Event, request: ImportRequest) -> None:
        """Bring the job's tags to the requested ones: tags are the one input a job can change."""
        try:
            old_tags = dict(ImportRequest.from_event(event, "OldResourceProperties").tags)
        except ImportFailed:
            old_tags = {}
        wanted = dict(request.tags)
        removed = sorted(set(old_tags) - set(wanted))
        changed: list[Any] = [{"tagKey": k, "tagValue": v} for k, v in request.tags if old_tags.get(k) != v]
        if not removed and not changed:
            return
        try:
            if changed:
                self._client.tag_resource(resourceArn=request.job_arn, tags=changed)
            if removed:
                self._client.untag_resource(resourceArn=request.job_arn, tagKeys=removed)
        except ClientError as error:
            raise ImportFailed(
                f"re-tagging dataset import job {request.job_name!r} failed with {_error_code(error)}: "
                f"{_error_message(error)}"
            ) from error
        self._log(event, "job-retagged", jobName=request.job_name, tagged=len(changed), untagged=removed)

    def _start(self, event: Mapping[str, Any], request: ImportRequest) -> str:
        """Start the job: "started", "exists", or quietly "deferred: <code>" (the service asks us to wait)."""
        try:
            response = self._start_client.create_dataset_import_job(**request.create_arguments())
        except ClientError as error:
            code = _error_code(error)
            if code in WAIT_CODES:
                self._log(event, "start-deferred", jobName=request.job_name, code=code, reason=_error_message(error))
                return f"{DEFERRED}: {code}"
            if code == "ResourceAlreadyExistsException":
                # A retried event, or a name taken for good: is_complete compares the inputs.
                self._log(event, "job-exists", jobName=request.job_name)
                return "exists"
            raise self._rejected(request, code, _error_message(error)) from error
        self._log(event, "job-started", jobName=request.job_name, jobArn=response.get("datasetImportJobArn"))
        return "started"

    def _rejected(self, request: ImportRequest, code: str, message: str) -> ImportFailed:
        if code == "ResourceNotFoundException":
            what = f"the dataset {request.dataset_arn!r} or the role {request.role_arn!r} was not found"
        elif code == "TooManyTagsException":
            what = f"too many tags ({len(request.tags)}) for job {request.job_name!r}"
        else:
            what = (
                f"an input was rejected (jobName={request.job_name!r}, datasetArn={request.dataset_arn!r}, "
                f"dataLocation={request.data_location!r}, roleArn={request.role_arn!r}, "
                f"importMode={request.import_mode!r})"
            )
        return ImportFailed(f"CreateDatasetImportJob failed with {code}: {what}: {message}")

    # -- is_complete -----------------------------------------------------------------------
    def is_complete(self, event: Event) -> Response:
        if event.get("RequestType") == "Delete":
            return self._delete_complete(event)
        job_arn = str(event.get("PhysicalResourceId") or "")
        request = ImportRequest.from_event(event).for_job(job_arn)
        job_arn = job_arn or request.job_arn
        deadline = self._deadline(event)
        if request.wait.mode != "COMPLETION" and event.get(CREATED_KEY):
            return self._hand_off(event, request, job_arn)
        if request.wait.mode == "SIGNAL" and STARTED_KEY in event:
            # No slot yet (or the dataset is not ACTIVE yet): the long waiter takes over waiting for one
            # and starting the job, within the wait condition's hours instead of this resource's hour.
            return self._hand_off(event, request, job_arn)
        started = event.get(STARTED_KEY)
        if isinstance(started, (int, float)) and 0 <= self._clock() - started < FRESH_START_SECONDS:
            return self._waiting(event, request, deadline, "start requested just now")
        try:
            job = self._client.describe_dataset_import_job(datasetImportJobArn=job_arn)["datasetImportJob"]
        except ClientError as error:
            code = _error_code(error)
            if code == "ResourceNotFoundException":
                if request.wait.mode == "SIGNAL":
                    return self._hand_off(event, request, job_arn)
                outcome = self._start(event, request)
                state = f"not started yet ({outcome})" if outcome.startswith(DEFERRED) else "start requested"
                return self._waiting(event, request, deadline, state)
            if code in WAIT_CODES:
                self._log(event, "describe-throttled", jobName=request.job_name, code=code)
                return self._waiting(event, request, deadline, f"describe throttled ({code})")
            raise ImportFailed(
                f"DescribeDatasetImportJob failed for {job_arn!r} with {code}: {_error_message(error)}"
            ) from error
        mismatches = request.mismatches(job)
        if mismatches:
            advice = (
                "set a new job_name, or omit job_name so DatasetImport derives one from the inputs."
                if request.explicit_name
                else "the derived name collided; set job_name explicitly."
            )
            raise ImportFailed(
                f"dataset import job name {request.job_name!r} is already used by a job with different inputs "
                f"({'; '.join(mismatches)}). Personalize job names are permanent and cannot be reused: {advice}"
            )
        status = str(job.get("status", ""))
        if request.wait.mode != "COMPLETION" and status != CREATE_FAILED:
            if event.get(ADOPTED_KEY):
                self._check_same_dataset(request, job)
            return self._hand_off(event, request, job_arn)
        if status == ACTIVE:
            if event.get(ADOPTED_KEY):
                self._check_same_dataset(request, job)
            self._log(event, "job-active", jobName=request.job_name, jobArn=job_arn)
            return {"IsComplete": True, "Data": {"DatasetImportJobArn": job_arn, "JobName": request.job_name}}
        if status == CREATE_FAILED:
            reason = str(job.get("failureReason") or "no failureReason given")
            self._log(event, "job-failed", jobName=request.job_name, jobArn=job_arn, failureReason=reason[:500])
            raise ImportFailed(f"dataset import job {request.job_name!r} ended CREATE FAILED: {reason}")
        return self._waiting(event, request, deadline, f"status {status}")

    def _hand_off(self, event: Event, request: ImportRequest, job_arn: str) -> Response:
        """Complete now; for SIGNAL the waiter state machine starts the job if needed and watches it from here."""
        if request.wait.mode == "SIGNAL":
            wait = request.wait
            waiter_input = {
                "JobArn": job_arn,
                "JobName": request.job_name,
                "WaitHandle": wait.handle,
                "UniqueId": request.job_name,
                "Deadline": self._clock() + wait.timeout_seconds - SIGNAL_MARGIN_SECONDS,
                # A Wait state's SecondsPath takes an integer; the step shortens the last wait.
                "WaitIntervalSeconds": int(wait.interval_seconds),
                "PollIntervalSeconds": int(wait.interval_seconds),
                # What the waiter sends if the job does not exist yet (no free slot when the resource ran).
                "Create": request.create_arguments(),
            }
            # One execution per job and wait condition handle: a retried poll starts nothing new.
            name = waiter_execution_name(request)
            try:
                self._start_waiter(wait.state_machine_arn, name, json.dumps(waiter_input, sort_keys=True))
            except ClientError as error:
                if _error_code(error) == "ExecutionAlreadyExists":
                    # This job and handle are watched already (a retried poll, or an update that only
                    # re-tagged the job): that execution signals the same wait condition.
                    self._log(event, "waiter-exists", jobName=request.job_name, execution=name)
                    return {"IsComplete": True, "Data": {"DatasetImportJobArn": job_arn, "JobName": request.job_name}}
                raise ImportFailed(
                    f"starting the waiter for dataset import job {request.job_name!r} failed with "
                    f"{_error_code(error)}: {_error_message(error)}"
                ) from error
            self._log(event, "waiter-started", jobName=request.job_name, execution=name)
        self._log(event, "job-handed-off", jobName=request.job_name, waitMode=request.wait.mode)
        return {"IsComplete": True, "Data": {"DatasetImportJobArn": job_arn, "JobName": request.job_name}}

    # -- wait_step (the waiter state machine's task) ---------------------------------------
    def wait_step(self, event: Event) -> Response:
        """One poll of a long wait: signal the wait condition once the job has ended or the wait is spent.

        It raises only when the signal itself cannot be sent (the state machine retries that): any other
        error becomes a FAILURE signal, so the stack never waits out the whole timeout for nothing.
        """
        try:
            return self._wait_step(event)
        except SignalFailed:
            raise
        except Exception as error:  # noqa: BLE001 - reported through the wait condition instead
            return self._signal_once(event, "FAILURE", f"the import's waiter failed: {type(error).__name__}: {error}")

    def _wait_step(self, event: Event) -> Response:
        name, job_arn = str(event.get("JobName")), str(event.get("JobArn"))
        try:
            job = self._client.describe_dataset_import_job(datasetImportJobArn=job_arn)["datasetImportJob"]
        except ClientError as error:
            code = _error_code(error)
            if code == "ResourceNotFoundException" and isinstance(event.get("Create"), Mapping):
                return self._start_from_waiter(event)
            if code in WAIT_CODES:
                return self._next_poll(event, f"describe throttled ({code})")
            return self._signal_once(
                event,
                "FAILURE",
                f"DescribeDatasetImportJob failed for {job_arn!r} with {code}: {_error_message(error)}",
            )
        status = str(job.get("status", ""))
        if status == ACTIVE:
            return self._signal_once(event, "SUCCESS", f"dataset import job {name!r} is ACTIVE")
        if status == CREATE_FAILED:
            reason = str(job.get("failureReason") or "no failureReason given")
            return self._signal_once(event, "FAILURE", f"dataset import job {name!r} ended CREATE FAILED: {reason}")
        return self._next_poll(event, status)

    def _start_from_waiter(self, event: Event) -> Response:
        """The job does not exist yet: ask for a slot again (the resource handed the wait for one over)."""
        name = str(event.get("JobName"))
        try:
            self._start_client.create_dataset_import_job(**dict(event["Create"]))
        except ClientError as error:
            code = _error_code(error)
            if code in WAIT_CODES:
                return self._next_poll(event, f"{DEFERRED}: {code}")
            if code != "ResourceAlreadyExistsException":  # a retried step: the job exists now
                message = _error_message(error)
                return self._signal_once(
                    event, "FAILURE", f"CreateDatasetImportJob failed for job {name!r} with {code}: {message}"
                )
        self._emit(json.dumps({"decision": "waiter-started-job", "jobName": name}))
        return self._next_poll(event, "start requested")

    def _next_poll(self, event: Event, status: str) -> Response:
        """Poll again after the interval, cut short to land on the deadline; at the deadline, signal FAILURE."""
        deadline = float(event.get("Deadline") or 0)
        left = deadline - self._clock()
        if left <= 0:
            return self._signal_once(event, "FAILURE", self._out_of_time(event, status))
        interval = int(event.get("PollIntervalSeconds") or event.get("WaitIntervalSeconds") or 30)
        return {**event, "Done": False, "Status": status, "WaitIntervalSeconds": max(1, min(interval, math.ceil(left)))}

    @staticmethod
    def _out_of_time(event: Event, status: str) -> str:
        name, job_arn = str(event.get("JobName")), str(event.get("JobArn"))
        if status.startswith(DEFERRED):
            return (
                f"dataset import job {name!r} never started within the deployment's wait ({status}): "
                f"{QUOTA_ADVICE} Raise ImportWait.up_to (at most 12 hours) or deploy when fewer imports run."
            )
        return (
            f"dataset import job {name!r} did not become ACTIVE within the deployment's wait (last status "
            f"{status}). It keeps running in Personalize: wait for it with `python -m constructs_personalize "
            f"wait {job_arn}`, or raise ImportWait.up_to (at most 12 hours)."
        )

    def _signal_once(self, event: Event, status: str, reason: str) -> Response:
        body = signal_body(status, str(event.get("UniqueId") or event.get("JobName")), reason, str(event.get("JobArn")))
        try:
            self._signal(str(event.get("WaitHandle")), body)
        except Exception as error:
            raise SignalFailed(f"signalling the wait condition failed: {type(error).__name__}: {error}") from error
        self._emit(json.dumps({"decision": "wait-signalled", "status": status, "jobName": event.get("JobName")}))
        return {**event, "Done": True, "Status": status}

    def _check_same_dataset(self, request: ImportRequest, job: Mapping[str, Any]) -> None:
        """Refuse a job that imported into an earlier dataset of the same ARN (deleted and created again).

        Its inputs match, but its data went into the dataset that was deleted: reporting it ACTIVE would
        leave the new dataset empty. Job names are permanent, so only a new name imports again.
        """
        try:
            dataset = self._client.describe_dataset(datasetArn=request.dataset_arn)["dataset"]
        except ClientError as error:
            raise ImportFailed(
                f"DescribeDataset failed for {request.dataset_arn!r} with {_error_code(error)}: {_error_message(error)}"
            ) from error
        job_created, dataset_created = job.get("creationDateTime"), dataset.get("creationDateTime")
        if job_created is not None and dataset_created is not None and job_created < dataset_created:
            raise ImportFailed(
                f"dataset import job name {request.job_name!r} is taken by a job of an earlier dataset with the same "
                f"ARN (job created {job_created}, dataset created {dataset_created}): its data is not in this "
                "dataset. Personalize job names are permanent: set a new job_name, or omit job_name (derived names "
                "include the deployed stack instance)."
            )

    def _waiting(self, event: Event, request: ImportRequest, deadline: float, state: str) -> Response:
        now = self._clock()
        if now >= deadline:
            self._log(event, "wait-budget-spent", jobName=request.job_name, state=state)
            if DEFERRED in state:
                raise ImportFailed(
                    f"dataset import job {request.job_name!r} never started within the deployment's wait budget "
                    f"(last state: {state}). {QUOTA_ADVICE} Use ImportWait.up_to(...) to let the deployment wait "
                    "for a slot for up to 12 hours, or deploy when fewer imports run."
                )
            raise ImportFailed(
                f"dataset import job {request.job_name!r} did not become ACTIVE within the deployment's wait "
                f"budget (last state: {state}). A started job keeps running in Personalize; raise total_timeout "
                "(at most 1 hour) or import the data outside the deployment."
            )
        self._log(event, "waiting", jobName=request.job_name, state=state, secondsLeft=round(deadline - now))
        return {"IsComplete": False}

    def _delete_complete(self, event: Event) -> Response:
        # Personalize cannot delete or stop an import job. Deleting the custom resource only waits
        # for an in-flight job to end, so the dataset's own deletion after it does not fail; it
        # never fails itself, so a stack is never left stuck in DELETE_FAILED.
        physical_id = str(event.get("PhysicalResourceId", ""))
        if not _is_job_arn(physical_id):
            self._log(event, "delete-nothing", reason="physical id is not an import job ARN")
            return {"IsComplete": True}
        deadline = self._deadline(event)
        try:
            job = self._client.describe_dataset_import_job(datasetImportJobArn=physical_id)["datasetImportJob"]
        except ClientError as error:
            code = _error_code(error)
            if code == "ResourceNotFoundException":
                self._log(event, "delete-done", reason="job never existed")
                return {"IsComplete": True}
            if code in WAIT_CODES and self._clock() < deadline:
                self._log(event, "delete-waiting", code=code)
                return {"IsComplete": False}
            self._log(event, "delete-done", reason=f"describe failed with {code}; not blocking the stack")
            return {"IsComplete": True}
        status = str(job.get("status", ""))
        if status in TERMINAL_STATUSES:
            self._log(event, "delete-done", reason=f"job ended {status}")
            return {"IsComplete": True}
        if self._clock() >= deadline:
            self._log(
                event, "delete-gave-up", status=status, reason="job still in flight at the end of the wait budget"
            )
            return {"IsComplete": True}
        self._log(event, "delete-waiting", status=status)
        return {"IsComplete": False}


def signal_body(status: str, unique_id: str, reason: str, data: str) -> dict[str, str]:
    """A wait condition signal whose JSON, exactly as ``_put_signal`` sends it, keeps to MAX_SIGNAL_BYTES.

    The Reason is cut (marked) to what is left once the rest is counted, JSON escapes included: a
    reason in Japanese takes 6 bytes a character once escaped, not the 3 of its UTF-8.
    """
    body = {"Status": status, "UniqueId": unique_id, "Reason": "", "Data": data}
    budget = MAX_SIGNAL_BYTES - len(encode_signal(body))
    body["Reason"] = truncate(reason, budget, size=lambda text: len(json.dumps(text)) - 2)
    return body


def encode_signal(body: Mapping[str, str]) -> bytes:
    # ASCII JSON: what the wait condition reads, byte for byte, whatever the reason's script.
    return json.dumps(dict(body)).encode("ascii")


def waiter_execution_name(request: ImportRequest) -> str:
    """The long waiter's execution for one job and one wait condition handle (at most 72 of the 80 chars)."""
    handle_hash = hashlib.sha256(request.wait.handle.encode("utf-8")).hexdigest()[:8]
    return f"{request.job_name}-{handle_hash}"


def waiter_execution_arn(state_machine_arn: str, name: str) -> str:
    """arn:<p>:states:<r>:<a>:execution:<machine>:<name> from the machine's ARN ('' if it is not one)."""
    marker = ":stateMachine:"
    if marker not in state_machine_arn:
        return ""
    return state_machine_arn.replace(marker, ":execution:", 1) + f":{name}"


def _wall_clock() -> float:
    # Looked up at call time, so a test can swap in a virtual clock for the Lambda entry points.
    return time.time()


@functools.cache
def _default_handler() -> DatasetImportHandler:
    # Created on first use and reused across warm invocations. The client is built the ordinary
    # way, so AWS_ENDPOINT_URL_PERSONALIZE and the other standard settings apply.
    budget = float(os.environ.get(WAIT_BUDGET_ENV, DEFAULT_WAIT_BUDGET_SECONDS))
    # Starting a job gets one attempt: boto3 retries LimitExceededException (the 5-jobs quota) as
    # throttling, three calls and seconds of back-off per poll for a slot that frees in minutes.
    # Every "wait" answer is retried at the next query interval anyway.
    single_attempt = Config(retries={"mode": "standard", "total_max_attempts": 1})
    return DatasetImportHandler(
        boto3.client("personalize"),
        start_client=boto3.client("personalize", config=single_attempt),
        clock=_wall_clock,
        wait_budget_seconds=budget,
    )


def _start_execution(state_machine_arn: str, name: str, waiter_input: str) -> None:
    try:
        boto3.client("stepfunctions").start_execution(stateMachineArn=state_machine_arn, name=name, input=waiter_input)
    except ClientError as error:
        # A retried poll: the execution for this job and handle is already running (or ran).
        if _error_code(error) != "ExecutionAlreadyExists":
            raise


def _stop_execution(execution_arn: str) -> None:
    try:
        boto3.client("stepfunctions").stop_execution(
            executionArn=execution_arn, error="ImportRemoved", cause="the import's custom resource was deleted or moved"
        )
    except ClientError as error:
        # Never started (the job ended before a waiter was needed) or long gone: nothing to stop.
        if _error_code(error) != "ExecutionDoesNotExist":
            raise


def _put_signal(url: str, body: Mapping[str, str]) -> None:
    # The handle URL is presigned for a PUT with no content type.
    data = encode_signal(body)
    request = urllib.request.Request(url, data=data, method="PUT", headers={"Content-Type": ""})
    with urllib.request.urlopen(request, timeout=30) as response:  # CloudFormation's https URL
        response.read()


def on_event(event: dict[str, Any], context: object) -> Response:
    """Provider framework entry point for Create, Update and Delete."""
    return _default_handler().on_event(event)


def is_complete(event: dict[str, Any], context: object) -> Response:
    """Provider framework entry point, called every query interval until complete."""
    return _default_handler().is_complete(event)


def wait_step(event: dict[str, Any], context: object) -> Response:
    """The long waiter's task, called by its state machine every wait interval until Done."""
    return _default_handler().wait_step(event)
