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

import functools
import hashlib
import json
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
INPUT_CODES = frozenset({"InvalidInputException", "ResourceNotFoundException", "TooManyTagsException"})

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
# How the deployment waits (property WaitMode): COMPLETION here (at most 1 hour), SIGNAL through a
# WaitCondition that the waiter state machine signals (at most 12 hours), NONE not at all.
WAIT_MODES = frozenset({"COMPLETION", "SIGNAL", "NONE"})
# The waiter signals a minute before the WaitCondition's own Timeout, so its failure names the job.
SIGNAL_MARGIN_SECONDS = 60.0
# The framework calls is_complete right after on_event. If on_event just created the job, it is
# still CREATE PENDING (imports take minutes); if the service just asked us to wait (quota,
# dataset not ACTIVE), asking again a second later is pointless. Either way that first poll
# answers without a call, so the deployment makes at most one Describe per query interval.
FRESH_START_SECONDS = 10.0
# Set by the construct: total_timeout minus two query intervals, so we stop waiting (with a
# useful message) before the framework's own "Operation timed out".
WAIT_BUDGET_ENV = "WAIT_BUDGET_SECONDS"
DEFAULT_WAIT_BUDGET_SECONDS = 3300.0

# Derived job names: <JobNamePrefix>-<16 hex>. Personalize job names are unique per account and
# region and taken for good, so the hash covers the deployed stack instance (its StackId carries a
# unique id: two copies of a stack, or a stack deployed again, never share a name) and exactly what
# is imported: dataset, data location, import mode, the attribution flag and the local data's version.
# Not the role or the tags: replacing the role reads the same data, and tags are re-applied in place.
JOB_NAME_MAX = 63
JOB_NAME_HASH_CHARS = 16
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


def truncate(message: str, limit: int = MAX_MESSAGE_BYTES) -> str:
    """Cut ``message`` so its JSON-encoded UTF-8 form takes at most ``limit`` bytes, marking the cut."""
    if _json_size(message) <= limit:
        return message
    budget = limit - _json_size(TRUNCATION_MARK)
    low, high = 0, len(message)
    while low < high:  # the longest prefix that fits
        mid = (low + high + 1) // 2
        if _json_size(message[:mid]) <= budget:
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

    @classmethod
    def from_properties(cls, props: Mapping[str, Any], stack_id: str = "") -> ImportRequest:
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
        )

    @classmethod
    def from_event(cls, event: Event, properties_key: str = "ResourceProperties") -> ImportRequest:
        return cls.from_properties(event.get(properties_key) or {}, stack_id=str(event.get("StackId") or ""))

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
) -> str:
    """``<prefix>-<16 hex>``, unique per deployed stack instance and per imported content."""
    if not stack_id:
        raise ImportFailed("the event has no StackId, so no job name can be derived; set job_name")
    material = json.dumps(
        [stack_id, dataset_arn, data_location, import_mode, bool(publish_attribution_metrics_to_s3), data_version],
        separators=(",", ":"),
    )
    suffix = hashlib.sha256(material.encode("utf-8")).hexdigest()[:JOB_NAME_HASH_CHARS]
    readable = _UNSAFE_NAME_CHARS.sub("-", prefix).strip("-_")[: JOB_NAME_MAX - JOB_NAME_HASH_CHARS - 1]
    readable = readable.rstrip("-_") or "import"
    if not readable[0].isalnum():
        readable = "import"
    return f"{readable}-{suffix}"


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
    ) -> None:
        self._client = client
        self._start_client = start_client or client
        self._clock = clock
        self._wait_budget = wait_budget_seconds
        self._emit = emit
        self._start_waiter = start_waiter or _start_execution
        self._signal = signal or _put_signal

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
            return {"PhysicalResourceId": physical_id, DEADLINE_KEY: deadline}
        request = ImportRequest.from_event(event)
        if request_type == "Update":
            physical_id = str(event.get("PhysicalResourceId", ""))
            if _is_job_arn(physical_id) and physical_id == request.job_arn:
                # Same job: nothing to start. Tags are re-applied; is_complete compares the other
                # inputs with the job's and fails clearly if a job name was reused for new inputs.
                self._retag(event, request)
                self._log(event, "update-same-job", jobName=request.job_name)
                return {"PhysicalResourceId": physical_id, DEADLINE_KEY: deadline}
        elif request_type != "Create":
            raise ImportFailed(f"unknown RequestType {request_type!r}")
        result: Response = {"PhysicalResourceId": request.job_arn, DEADLINE_KEY: deadline}
        outcome = self._start(event, request)
        if outcome == "exists":
            result[ADOPTED_KEY] = True
        else:
            result[STARTED_KEY] = self._clock()
            if outcome == "started":
                result[CREATED_KEY] = True
        return result

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

    def _start(self, event: Event, request: ImportRequest) -> str:
        """Start the job: "started", or quietly "deferred" (the service asks us to wait) or "exists"."""
        try:
            response = self._start_client.create_dataset_import_job(**request.create_arguments())
        except ClientError as error:
            code = _error_code(error)
            if code in WAIT_CODES:
                self._log(event, "start-deferred", jobName=request.job_name, code=code, reason=_error_message(error))
                return "deferred"
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
        request = ImportRequest.from_event(event)
        job_arn = str(event.get("PhysicalResourceId") or request.job_arn)
        deadline = self._deadline(event)
        if request.wait.mode != "COMPLETION" and event.get(CREATED_KEY):
            return self._hand_off(event, request, job_arn)
        started = event.get(STARTED_KEY)
        if isinstance(started, (int, float)) and 0 <= self._clock() - started < FRESH_START_SECONDS:
            return self._waiting(event, request, deadline, "start requested just now")
        try:
            job = self._client.describe_dataset_import_job(datasetImportJobArn=job_arn)["datasetImportJob"]
        except ClientError as error:
            code = _error_code(error)
            if code == "ResourceNotFoundException":
                self._start(event, request)
                return self._waiting(event, request, deadline, "not started yet (waiting for the service)")
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
        """The job exists: complete now, and for SIGNAL let the waiter state machine watch it from here."""
        if request.wait.mode == "SIGNAL":
            wait = request.wait
            waiter_input = {
                "JobArn": job_arn,
                "JobName": request.job_name,
                "WaitHandle": wait.handle,
                "UniqueId": request.job_name,
                "Deadline": self._clock() + wait.timeout_seconds - SIGNAL_MARGIN_SECONDS,
                # A Wait state's SecondsPath takes an integer.
                "WaitIntervalSeconds": int(wait.interval_seconds),
            }
            # One execution per job and wait condition handle: a retried poll starts nothing new.
            handle_hash = hashlib.sha256(wait.handle.encode("utf-8")).hexdigest()[:8]
            name = f"{request.job_name}-{handle_hash}"
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
            if code in WAIT_CODES:
                return {**event, "Done": False, "Status": f"describe throttled ({code})"}
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
        if self._clock() >= float(event.get("Deadline") or 0):
            return self._signal_once(
                event,
                "FAILURE",
                f"dataset import job {name!r} did not become ACTIVE within the deployment's wait (last status "
                f"{status}). It keeps running in Personalize: wait for it with `python -m constructs_personalize "
                f"wait {job_arn}`, or raise ImportWait.up_to (at most 12 hours).",
            )
        return {**event, "Done": False, "Status": status}

    def _signal_once(self, event: Event, status: str, reason: str) -> Response:
        body = {
            "Status": status,
            "UniqueId": str(event.get("UniqueId") or event.get("JobName")),
            "Reason": truncate(reason),
            "Data": str(event.get("JobArn")),
        }
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


def _put_signal(url: str, body: Mapping[str, str]) -> None:
    # The handle URL is presigned for a PUT with no content type.
    data = json.dumps(body).encode("utf-8")
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
