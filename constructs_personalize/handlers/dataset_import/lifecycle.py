"""The custom resource's lifecycle: start the job, wait for it, and let a deleted resource go.

``on_event`` starts the job (or defers the start while the service asks us to wait) and returns
the job ARN as the physical id. ``is_complete`` is called every query interval with the original
event merged with ``on_event``'s result. It is stateless: every poll describes the job, starts it if
it does not exist yet, and reports complete once the job is ACTIVE. Any exception raised here fails
the deployment at once, so every "wait and try again" condition returns ``IsComplete: False``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from . import contract, existing_jobs
from .errors import DEFERRED, QUOTA_ADVICE, ImportFailed, error_code, error_message
from .long_wait import LongWait, put_signal, start_execution, stop_execution
from .request import (
    ADOPTED_KEY,
    BASE_KEY,
    CREATED_KEY,
    DEADLINE_KEY,
    STARTED_KEY,
    Event,
    ImportRequest,
    Response,
    completed,
    is_job_arn,
)

if TYPE_CHECKING:
    from mypy_boto3_personalize import PersonalizeClient

# The framework calls is_complete right after on_event. If on_event just created the job, it is
# still CREATE PENDING (imports take minutes); if the service just asked us to wait (quota,
# dataset not ACTIVE), asking again a second later is pointless. Either way that first poll
# answers without a call, so the deployment makes at most one Describe per query interval.
FRESH_START_SECONDS = 10.0


class DatasetImportHandler:
    """The lifecycle logic, with the client, clock and log sink injected for tests."""

    def __init__(
        self,
        client: PersonalizeClient,
        *,
        start_client: PersonalizeClient | None = None,
        clock: Callable[[], float] = time.time,
        wait_budget_seconds: float = contract.DEFAULT_WAIT_BUDGET_SECONDS,
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
        self._long = LongWait(
            client,
            self._start_client,
            clock=clock,
            log=self._log,
            emit=emit,
            start_waiter=start_waiter or start_execution,
            signal=signal or put_signal,
            stop_waiter=stop_waiter or stop_execution,
        )

    def wait_step(self, event: Event) -> Response:
        """One poll of the long waiter state machine (see ``LongWait.wait_step``)."""
        return self._long.wait_step(event)

    def _log(self, event: Event, decision: str, /, **fields: Any) -> None:
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
            self._long.stop_deleted(event, physical_id)
            return {"PhysicalResourceId": physical_id, DEADLINE_KEY: deadline}
        request = ImportRequest.from_event(event)
        base: Response = {}
        if request_type in ("Create", "Update") and request.needs_base:
            # The FULL import before it in the stack when there is one (what it will be added to), else the
            # dataset's latest ACTIVE FULL job (the bulk data it is added to).
            found = request.after_job or existing_jobs.latest_full_job(self._client, request.dataset_arn)
            base = {BASE_KEY: found}
            request = ImportRequest.from_event({**event, **base})
        if request_type == "Update":
            physical_id = str(event.get("PhysicalResourceId", ""))
            self._long.stop_replaced(event, request)
            if request.made(physical_id):
                existing_jobs.check_data_unchanged(event, request)
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
                f"re-tagging dataset import job {request.job_name!r} failed with {error_code(error)}: "
                f"{error_message(error)}"
            ) from error
        self._log(event, "job-retagged", jobName=request.job_name, tagged=len(changed), untagged=removed)

    def _start(self, event: Event, request: ImportRequest) -> str:
        """Start the job: "started", "exists", or quietly "deferred: <why>" (the service asks us to wait)."""
        running = request.waits_for_full and existing_jobs.full_in_flight(self._client, request.waits_for_full)
        if running:
            self._log(event, "start-deferred", jobName=request.job_name, reason=running)
            return f"{DEFERRED}: {running}"
        try:
            response = self._start_client.create_dataset_import_job(**request.create_arguments())
        except ClientError as error:
            code = error_code(error)
            if code in contract.WAIT_CODES:
                self._log(event, "start-deferred", jobName=request.job_name, code=code, reason=error_message(error))
                return f"{DEFERRED}: {code}"
            if code == "ResourceAlreadyExistsException":
                # A retried event, or a name taken for good: is_complete compares the inputs.
                self._log(event, "job-exists", jobName=request.job_name)
                return "exists"
            raise _rejected(request, code, error_message(error)) from error
        self._log(event, "job-started", jobName=request.job_name, jobArn=response.get("datasetImportJobArn"))
        return "started"

    # -- is_complete -----------------------------------------------------------------------
    def is_complete(self, event: Event) -> Response:
        if event.get("RequestType") == "Delete":
            return self._delete_complete(event)
        job_arn = str(event.get("PhysicalResourceId") or "")
        request = ImportRequest.from_event(event).for_job(job_arn)
        job_arn = job_arn or request.job_arn
        deadline = self._deadline(event)
        if request.wait.mode != contract.WAIT_COMPLETION and event.get(CREATED_KEY):
            return self._long.hand_off(event, request, job_arn)
        if request.wait.mode == contract.WAIT_SIGNAL and STARTED_KEY in event:
            # No slot yet (or the dataset is not ACTIVE yet): the long waiter takes over waiting for one
            # and starting the job, within the wait condition's hours instead of this resource's hour.
            return self._long.hand_off(event, request, job_arn)
        started = event.get(STARTED_KEY)
        if isinstance(started, (int, float)) and 0 <= self._clock() - started < FRESH_START_SECONDS:
            return self._waiting(event, request, deadline, "start requested just now")
        try:
            job = self._client.describe_dataset_import_job(datasetImportJobArn=job_arn)["datasetImportJob"]
        except ClientError as error:
            code = error_code(error)
            if code == "ResourceNotFoundException":
                if request.wait.mode == contract.WAIT_SIGNAL:
                    return self._long.hand_off(event, request, job_arn)
                outcome = self._start(event, request)
                state = f"not started yet ({outcome})" if outcome.startswith(DEFERRED) else "start requested"
                return self._waiting(event, request, deadline, state)
            if code in contract.WAIT_CODES:
                self._log(event, "describe-throttled", jobName=request.job_name, code=code)
                return self._waiting(event, request, deadline, f"describe throttled ({code})")
            raise ImportFailed(
                f"DescribeDatasetImportJob failed for {job_arn!r} with {code}: {error_message(error)}"
            ) from error
        existing_jobs.check_inputs(request, job)
        status = str(job.get("status", ""))
        if request.wait.mode != contract.WAIT_COMPLETION and status != contract.CREATE_FAILED:
            if event.get(ADOPTED_KEY):
                existing_jobs.check_same_dataset(self._client, request, job)
            return self._long.hand_off(event, request, job_arn)
        if status == contract.ACTIVE:
            if event.get(ADOPTED_KEY):
                existing_jobs.check_same_dataset(self._client, request, job)
            self._log(event, "job-active", jobName=request.job_name, jobArn=job_arn)
            return completed(job_arn, request.job_name)
        if status == contract.CREATE_FAILED:
            reason = str(job.get("failureReason") or "no failureReason given")
            self._log(event, "job-failed", jobName=request.job_name, jobArn=job_arn, failureReason=reason[:500])
            raise ImportFailed(f"dataset import job {request.job_name!r} ended CREATE FAILED: {reason}")
        return self._waiting(event, request, deadline, f"status {status}")

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

    # -- delete ------------------------------------------------------------------------------
    def _delete_complete(self, event: Event) -> Response:
        # Personalize cannot delete or stop an import job. Deleting the custom resource only waits
        # for an in-flight job to end, so the dataset's own deletion after it does not fail; it
        # never fails itself, so a stack is never left stuck in DELETE_FAILED.
        physical_id = str(event.get("PhysicalResourceId", ""))
        if not is_job_arn(physical_id):
            self._log(event, "delete-nothing", reason="physical id is not an import job ARN")
            return {"IsComplete": True}
        deadline = self._deadline(event)
        try:
            job = self._client.describe_dataset_import_job(datasetImportJobArn=physical_id)["datasetImportJob"]
        except ClientError as error:
            code = error_code(error)
            if code == "ResourceNotFoundException":
                self._log(event, "delete-done", reason="job never existed")
                return {"IsComplete": True}
            if code in contract.WAIT_CODES and self._clock() < deadline:
                self._log(event, "delete-waiting", code=code)
                return {"IsComplete": False}
            self._log(event, "delete-done", reason=f"describe failed with {code}; not blocking the stack")
            return {"IsComplete": True}
        status = str(job.get("status", ""))
        if status in contract.TERMINAL_STATUSES:
            self._log(event, "delete-done", reason=f"job ended {status}")
            return {"IsComplete": True}
        if self._clock() >= deadline:
            self._log(
                event, "delete-gave-up", status=status, reason="job still in flight at the end of the wait budget"
            )
            return {"IsComplete": True}
        self._log(event, "delete-waiting", status=status)
        return {"IsComplete": False}


def _rejected(request: ImportRequest, code: str, message: str) -> ImportFailed:
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
