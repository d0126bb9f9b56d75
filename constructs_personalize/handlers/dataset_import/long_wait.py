"""Waits longer than the custom resource's hour: the waiter state machine signals a WaitCondition.

The resource hands the job over (``hand_off``) and completes; the waiter calls ``wait_step`` every
interval until the job ends, its wait is spent, or a deleted resource stops it.
"""

from __future__ import annotations

import hashlib
import json
import math
import urllib.request
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

import boto3
from botocore.exceptions import ClientError

from . import contract, existing_jobs
from .errors import DEFERRED, QUOTA_ADVICE, ImportFailed, SignalFailed, error_code, error_message, truncate
from .request import Event, ImportRequest, Response, completed

if TYPE_CHECKING:
    from mypy_boto3_personalize import PersonalizeClient

# The waiter signals a minute before the WaitCondition's own Timeout, so its failure names the job;
# it shortens its last wait to land on that deadline, whatever the query interval.
SIGNAL_MARGIN_SECONDS = 60.0
# Wait condition data is documented up to 4,096 bytes: the whole signal body, as sent, keeps to it.
MAX_SIGNAL_BYTES = 4096


class DecisionLog(Protocol):
    def __call__(self, event: Event, decision: str, /, **fields: Any) -> None: ...


class LongWait:
    """The long waits of one handler: hand a job to the waiter, poll it there, stop a waiter nobody needs."""

    def __init__(
        self,
        client: PersonalizeClient,
        start_client: PersonalizeClient,
        *,
        clock: Callable[[], float],
        log: DecisionLog,
        emit: Callable[[str], None],
        start_waiter: Callable[[str, str, str], None],
        signal: Callable[[str, Mapping[str, str]], None],
        stop_waiter: Callable[[str], None],
    ) -> None:
        self._client = client
        self._start_client = start_client
        self._clock = clock
        self._log = log
        self._emit = emit
        self._start_waiter = start_waiter
        self._signal = signal
        self._stop = stop_waiter

    # -- the custom resource's side ----------------------------------------------------------
    def hand_off(self, event: Event, request: ImportRequest, job_arn: str) -> Response:
        """Complete now; for SIGNAL the waiter state machine starts the job if needed and watches it from here."""
        if request.wait.mode == contract.WAIT_SIGNAL:
            wait = request.wait
            waiter_input = {
                "JobArn": job_arn,
                "JobName": request.job_name,
                "WaitHandle": wait.handle,
                "UniqueId": request.job_name,
                "Deadline": self._clock() + wait.timeout_seconds - SIGNAL_MARGIN_SECONDS,
                # A Wait state's SecondsPath takes an integer; the step shortens the last wait.
                contract.WAITER_WAIT_SECONDS: int(wait.interval_seconds),
                "PollIntervalSeconds": int(wait.interval_seconds),
                # What the waiter sends if the job does not exist yet (no free slot when the resource ran).
                "Create": request.create_arguments(),
            }
            if request.waits_for_full:  # the waiter starts the job only once that FULL job has ended
                waiter_input["WaitsForFull"] = request.waits_for_full
            # One execution per job and wait condition handle: a retried poll starts nothing new.
            name = waiter_execution_name(request)
            try:
                self._start_waiter(wait.state_machine_arn, name, json.dumps(waiter_input, sort_keys=True))
            except ClientError as error:
                if error_code(error) == "ExecutionAlreadyExists":
                    # This job and handle are watched already (a retried poll, or an update that only
                    # re-tagged the job): that execution signals the same wait condition.
                    self._log(event, "waiter-exists", jobName=request.job_name, execution=name)
                    return completed(job_arn, request.job_name)
                raise ImportFailed(
                    f"starting the waiter for dataset import job {request.job_name!r} failed with "
                    f"{error_code(error)}: {error_message(error)}"
                ) from error
            self._log(event, "waiter-started", jobName=request.job_name, execution=name)
        self._log(event, "job-handed-off", jobName=request.job_name, waitMode=request.wait.mode)
        return completed(job_arn, request.job_name)

    def stop_replaced(self, event: Event, request: ImportRequest) -> None:
        """An update that moves to another wait condition handle: the old handle's waiter has nobody to tell."""
        try:
            old = ImportRequest.from_event(event, "OldResourceProperties")
        except ImportFailed:
            return
        if old.wait.mode == contract.WAIT_SIGNAL and old.wait.handle != request.wait.handle:
            self._stop_waiter(event, old.for_job(str(event.get("PhysicalResourceId", ""))))

    def stop_deleted(self, event: Event, physical_id: str) -> None:
        """A deleted (or rolled back) import's wait condition is gone: its waiter must not poll for hours."""
        try:
            request = ImportRequest.from_event(event)
        except ImportFailed:
            return
        if request.wait.mode == contract.WAIT_SIGNAL:
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

    # -- the waiter's side (its state is both the step's input and its output) ---------------
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
            code = error_code(error)
            if code == "ResourceNotFoundException" and isinstance(event.get("Create"), Mapping):
                return self._start_from_waiter(event)
            if code in contract.WAIT_CODES:
                return self._next_poll(event, f"describe throttled ({code})")
            return self._signal_once(
                event,
                "FAILURE",
                f"DescribeDatasetImportJob failed for {job_arn!r} with {code}: {error_message(error)}",
            )
        status = str(job.get("status", ""))
        if status == contract.ACTIVE:
            return self._signal_once(event, "SUCCESS", f"dataset import job {name!r} is ACTIVE")
        if status == contract.CREATE_FAILED:
            reason = str(job.get("failureReason") or "no failureReason given")
            return self._signal_once(event, "FAILURE", f"dataset import job {name!r} ended CREATE FAILED: {reason}")
        return self._next_poll(event, status)

    def _start_from_waiter(self, event: Event) -> Response:
        """The job does not exist yet: ask for a slot again (the resource handed the wait for one over)."""
        name = str(event.get("JobName"))
        full = str(event.get("WaitsForFull") or "")
        running = full and existing_jobs.full_in_flight(self._client, full)
        if running:
            return self._next_poll(event, f"{DEFERRED}: {running}")
        try:
            self._start_client.create_dataset_import_job(**dict(event["Create"]))
        except ClientError as error:
            code = error_code(error)
            if code in contract.WAIT_CODES:
                return self._next_poll(event, f"{DEFERRED}: {code}")
            if code != "ResourceAlreadyExistsException":  # a retried step: the job exists now
                message = error_message(error)
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
            return self._signal_once(event, "FAILURE", _out_of_time(event, status))
        interval = int(event.get("PollIntervalSeconds") or event.get(contract.WAITER_WAIT_SECONDS) or 30)
        wait_seconds = max(1, min(interval, math.ceil(left)))
        return {**event, contract.WAITER_DONE: False, "Status": status, contract.WAITER_WAIT_SECONDS: wait_seconds}

    def _signal_once(self, event: Event, status: str, reason: str) -> Response:
        body = signal_body(status, str(event.get("UniqueId") or event.get("JobName")), reason, str(event.get("JobArn")))
        try:
            self._signal(str(event.get("WaitHandle")), body)
        except Exception as error:
            raise SignalFailed(f"signalling the wait condition failed: {type(error).__name__}: {error}") from error
        self._emit(json.dumps({"decision": "wait-signalled", "status": status, "jobName": event.get("JobName")}))
        return {**event, contract.WAITER_DONE: True, "Status": status}


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


def signal_body(status: str, unique_id: str, reason: str, data: str) -> dict[str, str]:
    """A wait condition signal whose JSON, exactly as ``put_signal`` sends it, keeps to MAX_SIGNAL_BYTES.

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


# -- what the handler uses in AWS (tests inject stand-ins) ---------------------------------------------
def start_execution(state_machine_arn: str, name: str, waiter_input: str) -> None:
    try:
        boto3.client("stepfunctions").start_execution(stateMachineArn=state_machine_arn, name=name, input=waiter_input)
    except ClientError as error:
        # A retried poll: the execution for this job and handle is already running (or ran).
        if error_code(error) != "ExecutionAlreadyExists":
            raise


def stop_execution(execution_arn: str) -> None:
    try:
        boto3.client("stepfunctions").stop_execution(
            executionArn=execution_arn, error="ImportRemoved", cause="the import's custom resource was deleted or moved"
        )
    except ClientError as error:
        # Never started (the job ended before a waiter was needed) or long gone: nothing to stop.
        if error_code(error) != "ExecutionDoesNotExist":
            raise


def put_signal(url: str, body: Mapping[str, str]) -> None:
    # The handle URL is presigned for a PUT with no content type.
    data = encode_signal(body)
    request = urllib.request.Request(url, data=data, method="PUT", headers={"Content-Type": ""})
    with urllib.request.urlopen(request, timeout=30) as response:  # CloudFormation's https URL
        response.read()
