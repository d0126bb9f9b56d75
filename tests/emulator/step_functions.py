"""Step Functions STANDARD state machines and the Lambda functions their Tasks call, on the virtual clock.

The emulated CloudFormation registers every ``AWS::Lambda::Function`` (its ``Handler`` string) and
``AWS::StepFunctions::StateMachine`` (its resolved definition) of a deployed stack here
(``cfn_states.py``). ``StepFunctions.start_execution`` starts an execution the way StartExecution
does: it returns at once and the execution runs later, interleaved with everything else on the
virtual clock (``next_due`` / ``step_due``, which the deployment engine calls; ``run_until`` outside a stack
operation), so a wait condition can wait for hours while an execution polls.

Modelled on the Step Functions developer guide and API reference:
- StartExecution: names of 1-80 characters without whitespace, ``< > { } [ ] ? * " # % \\ ^ | ~ ` $ & , ; : /``
  or control characters (InvalidName); input valid JSON of at most 256 KiB (InvalidExecutionInput);
  a name already used on the state machine → ExecutionAlreadyExists, except while that execution is
  still RUNNING with the same input (STANDARD's idempotency: the same ARN, no new execution);
  a deleted machine → StateMachineDoesNotExist / StateMachineDeleting. Errors are botocore
  ``ClientError``s, what a boto3-based caller catches.
- States (``asl.py`` for their data handling): Task (a Lambda function ARN: input = the effective
  input, output = the function's return value; or ``arn:aws:states:::lambda:invoke`` with its
  Payload / StatusCode envelope), Pass, Choice, Wait (Seconds, SecondsPath, Timestamp, TimestampPath),
  Succeed, Fail; Retry (ErrorEquals, IntervalSeconds 1, MaxAttempts 3, BackoffRate 2.0 by default,
  MaxDelaySeconds; only the first matching retrier applies) and Catch on Task; a Task's
  TimeoutSeconds and the machine's top-level TimeoutSeconds (TIMED_OUT). Parallel and Map raise
  NotImplementedError.
- A Lambda invocation runs the Python callable bound to the function's Handler string (a stack binds
  them: ``EmulatedStack.bind_functions``); an exception it raises is the error named after its class
  (what the Python runtime reports as errorType), a return value that is not JSON is
  Runtime.MarshalError, an invocation that took longer (on the virtual clock) than the function's
  Timeout (3 s by default, as Lambda's) is Sandbox.Timedout; ``LambdaFunctions.fail_next`` injects
  service errors (Lambda.ServiceException ...) that never reach the code.
- History: the events Step Functions records (ExecutionStarted, <Type>StateEntered/Exited,
  LambdaFunctionScheduled/Started/Succeeded/Failed, ...). An execution has at most 25,000 history
  events: when event 25,000 would be anything but ExecutionSucceeded, ExecutionFailed is recorded
  as event 25,000 instead and the execution fails (the developer guide's "Avoid reaching the history
  quota"; the error name recorded, States.Runtime, is the emulator's choice).
- ``transitions`` counts state transitions as Step Functions bills them: every state entered, and
  every retry of a Task. ``task_invocations`` counts Lambda invocations attempted.
- DeleteStateMachine: the machine is DELETING; its running executions are aborted at their next
  state transition. StopExecution aborts at once.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NoReturn

from botocore.exceptions import ClientError

from tests.emulator import asl
from tests.emulator.asl import StatesError
from tests.emulator.clock import VirtualClock

HISTORY_LIMIT = 25_000
MAX_PAYLOAD_BYTES = 256 * 1024
DEFAULT_LAMBDA_TIMEOUT = 3.0
RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED = "RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"
FINAL_EVENTS = frozenset({"ExecutionSucceeded", "ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut"})
LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"
_BAD_NAME = re.compile(r"[\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]")

TaskFn = Callable[[Any], Any]  # a Lambda handler as a Task calls it: the payload in, the result out
Steps = Generator[float, None, None]  # an execution: yields the virtual time it is due again


def client_error(code: str, message: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


def _json_size(value: Any) -> int:
    return len(json.dumps(value).encode())


def _iso(when: float) -> str:
    return datetime.fromtimestamp(when, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# -- Lambda -------------------------------------------------------------------------------------------------
@dataclass
class LambdaFunction:
    arn: str
    handler: str  # the function's Handler property, e.g. "dataset_import.index.wait_step" (contract.WAIT_STEP)
    code: Callable[[str], TaskFn | None]  # finds the Python callable bound to a Handler string, at call time
    timeout: float = DEFAULT_LAMBDA_TIMEOUT


@dataclass
class _LambdaFault:
    error: str
    cause: str
    count: int
    function_arn: str | None


class LambdaFunctions:
    """The region's Lambda functions, as far as Step Functions Tasks invoke them."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self._functions: dict[str, LambdaFunction] = {}
        self._faults: list[_LambdaFault] = []
        self.invocations: list[tuple[float, str]] = []  # (virtual time, function ARN), failed ones too

    def create(
        self, arn: str, handler: str, code: Callable[[str], TaskFn | None], *, timeout: float = DEFAULT_LAMBDA_TIMEOUT
    ) -> None:
        self._functions[arn] = LambdaFunction(arn, handler, code, timeout)

    def update(self, arn: str, handler: str, *, timeout: float = DEFAULT_LAMBDA_TIMEOUT) -> None:
        function = self._functions[arn]
        function.handler, function.timeout = handler, timeout

    def delete(self, arn: str) -> None:
        self._functions.pop(arn, None)

    def __contains__(self, arn: object) -> bool:
        return isinstance(arn, str) and _unqualified(arn) in self._functions

    def fail_next(
        self,
        error: str = "Lambda.ServiceException",
        *,
        count: int = 1,
        function_arn: str | None = None,
        cause: str = "",
    ) -> None:
        """The next ``count`` invocations (of ``function_arn``, or of any) fail with ``error`` before the code runs."""
        self._faults.append(_LambdaFault(error, cause or f"{error} (injected)", count, function_arn))

    def invoke(self, arn: str, payload: Any) -> Any:
        """Run the function on ``payload`` as Lambda would; a failure is a StatesError, named as Step Functions does."""
        self.invocations.append((self.clock(), arn))
        for fault in self._faults:
            if fault.count > 0 and fault.function_arn in (None, arn):
                fault.count -= 1
                raise StatesError(fault.error, fault.cause)
        function = self._functions.get(_unqualified(arn))
        if function is None:
            raise StatesError("Lambda.ResourceNotFoundException", f"Function not found: {arn}")
        code = function.code(function.handler)
        if code is None:
            raise LookupError(
                f"no Python code is bound to handler {function.handler!r} of {arn}: bind it "
                "(ProviderFramework(functions=...) or EmulatedStack.bind_functions) before an execution calls it"
            )
        event = json.loads(json.dumps(payload))  # the function gets its own copy, as over the wire
        started = self.clock()
        try:
            result = code(event)
        except Exception as error:  # any exception is a function error, named by its class
            details = {"errorMessage": str(error), "errorType": type(error).__name__, "stackTrace": []}
            raise StatesError(type(error).__name__, json.dumps(details)) from error
        took = self.clock() - started
        if took > function.timeout:
            message = f"Task timed out after {function.timeout:.2f} seconds"
            raise StatesError(
                "Sandbox.Timedout", json.dumps({"errorMessage": message, "errorType": "Sandbox.Timedout"})
            )
        try:
            return json.loads(json.dumps(result))
        except (TypeError, ValueError) as error:
            details = {"errorMessage": f"Unable to marshal response: {error}", "errorType": "Runtime.MarshalError"}
            raise StatesError("Runtime.MarshalError", json.dumps(details)) from error


def _unqualified(arn: str) -> str:
    # arn:aws:lambda:region:account:function:name[:alias or version]
    return ":".join(arn.split(":")[:7])


# -- Step Functions -----------------------------------------------------------------------------------------
@dataclass
class StateMachine:
    arn: str
    definition: dict[str, Any]
    machine_type: str = "STANDARD"
    status: str = "ACTIVE"  # or DELETING

    @property
    def name(self) -> str:
        return self.arn.rsplit(":", 1)[-1]


@dataclass(frozen=True)
class HistoryEvent:
    id: int
    timestamp: float
    type: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Execution:
    arn: str
    name: str
    state_machine_arn: str
    input: str
    started_at: float
    status: str = RUNNING
    stopped_at: float | None = None
    output: str | None = None
    error: str = ""
    cause: str = ""
    history: list[HistoryEvent] = field(default_factory=list)
    transitions: int = 0
    task_invocations: int = 0

    def events(self, kind: str) -> list[HistoryEvent]:
        return [event for event in self.history if event.type == kind]


class _Closed(Exception):
    """The execution ended (its final history event is recorded): stop interpreting."""


class StepFunctions:
    """The region's state machines and executions. ``step_due`` runs what is due; the caller moves the clock."""

    def __init__(
        self,
        clock: VirtualClock,
        lambdas: LambdaFunctions,
        *,
        region: str,
        account: str,
        history_limit: int = HISTORY_LIMIT,
    ) -> None:
        self.clock = clock
        self.lambdas = lambdas
        self.region = region
        self.account = account
        self.history_limit = history_limit
        self._machines: dict[str, StateMachine] = {}
        self._executions: dict[str, Execution] = {}
        self._running: dict[str, tuple[Steps, float]] = {}
        self._deadlines: dict[str, float] = {}  # top-level TimeoutSeconds
        self._order: dict[str, int] = {}
        self._started = itertools.count()

    # -- state machines -------------------------------------------------------------------------------
    def create_state_machine(
        self, arn: str, definition: str | Mapping[str, Any], machine_type: str = "STANDARD"
    ) -> StateMachine:
        old = self._machines.get(arn)
        if old is not None and (old.status == "ACTIVE" or self._running_of(arn)):
            raise client_error(
                "StateMachineAlreadyExists", f"State Machine Already Exists: '{arn}'", "CreateStateMachine"
            )
        machine = StateMachine(arn, _parse_definition(definition, "CreateStateMachine"), machine_type)
        self._machines[arn] = machine
        return machine

    def update_state_machine(self, arn: str, definition: str | Mapping[str, Any]) -> None:
        """A new definition for new executions; running ones go on with the one they started with."""
        self.state_machine(arn).definition = _parse_definition(definition, "UpdateStateMachine")

    def delete_state_machine(self, arn: str) -> None:
        if arn in self._machines:
            self._machines[arn].status = "DELETING"

    def state_machine(self, arn: str) -> StateMachine:
        machine = self._machines.get(arn)
        if machine is None:
            raise client_error(
                "StateMachineDoesNotExist", f"State Machine Does Not Exist: '{arn}'", "DescribeStateMachine"
            )
        return machine

    def _running_of(self, machine_arn: str) -> list[str]:
        return [arn for arn in self._running if self._executions[arn].state_machine_arn == machine_arn]

    # -- executions -----------------------------------------------------------------------------------
    def start_execution(self, state_machine_arn: str, name: str, input_json: str = "{}") -> str:
        """StartExecution: the execution's ARN; it runs from ``clock()`` on, when the scheduler steps it."""
        operation = "StartExecution"
        machine = self._machines.get(state_machine_arn)
        if machine is None:
            raise client_error(
                "StateMachineDoesNotExist", f"State Machine Does Not Exist: '{state_machine_arn}'", operation
            )
        if machine.status != "ACTIVE":
            raise client_error(
                "StateMachineDeleting", f"State Machine is being deleted: '{state_machine_arn}'", operation
            )
        if machine.machine_type != "STANDARD" or machine.definition.get("QueryLanguage", "JSONPath") != "JSONPath":
            raise NotImplementedError(
                f"executions of {machine.arn} ({machine.machine_type}, JSONata?) are not emulated"
            )
        if not 1 <= len(name) <= 80 or _BAD_NAME.search(name):
            raise client_error("InvalidName", f"Invalid Name: '{name}'", operation)
        try:
            json.loads(input_json)
        except ValueError as error:
            raise client_error(
                "InvalidExecutionInput", f"Invalid State Machine Execution Input: '{error}'", operation
            ) from error
        if len(input_json.encode()) > MAX_PAYLOAD_BYTES:
            raise client_error("InvalidExecutionInput", "Input exceeds the maximum size of 262144 bytes", operation)
        arn = f"arn:aws:states:{self.region}:{self.account}:execution:{machine.name}:{name}"
        existing = self._executions.get(arn)
        if existing is not None:
            if existing.status == RUNNING and existing.input == input_json:
                return arn  # STANDARD: the same name and input while running is the same execution
            raise client_error("ExecutionAlreadyExists", f"Execution Already Exists: '{arn}'", operation)
        execution = Execution(arn, name, state_machine_arn, input_json, self.clock())
        self._executions[arn] = execution
        self._order[arn] = next(self._started)
        timeout = machine.definition.get("TimeoutSeconds")
        if timeout is not None:
            self._deadlines[arn] = execution.started_at + float(timeout)
        self._running[arn] = (self._interpret(execution, machine), self.clock())
        return arn

    def stop_execution(self, execution_arn: str, error: str = "", cause: str = "") -> None:
        execution = self.execution(execution_arn)
        if execution.status != RUNNING:
            return
        steps, _ = self._running.pop(execution_arn)
        steps.close()
        self._end(execution, ABORTED, "ExecutionAborted", error=error, cause=cause)

    def execution(self, arn: str) -> Execution:
        execution = self._executions.get(arn)
        if execution is None:
            raise client_error("ExecutionDoesNotExist", f"Execution Does Not Exist: '{arn}'", "DescribeExecution")
        return execution

    def executions(self, state_machine_arn: str | None = None) -> list[Execution]:
        """Every execution started (of one state machine), in start order."""
        return [e for e in self._executions.values() if state_machine_arn in (None, e.state_machine_arn)]

    # -- scheduling -----------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._running)

    def next_due(self) -> float | None:
        return min((self._due(arn, when) for arn, (_, when) in self._running.items()), default=None)

    def _due(self, arn: str, when: float) -> float:
        return min(when, self._deadlines.get(arn, when))

    def step_due(self) -> list[Execution]:
        """Run every execution due at ``clock()`` to its next wait; those that ended, in start order."""
        now = self.clock()
        due = sorted(
            (arn for arn, (_, when) in self._running.items() if self._due(arn, when) <= now),
            key=self._order.__getitem__,
        )
        ended = []
        for arn in due:
            steps, _ = self._running.pop(arn)
            execution = self._executions[arn]
            if now >= self._deadlines.get(arn, now + 1):
                steps.close()
                self._end(execution, TIMED_OUT, "ExecutionTimedOut", error="States.Timeout", cause="")
            else:
                try:
                    self._running[arn] = (steps, next(steps))
                    continue
                except StopIteration:
                    pass
            ended.append(execution)
        return ended

    def run_until(self, until: float) -> None:
        """Move the clock to ``until``, running every execution step due on the way, in time order."""
        while (due := self.next_due()) is not None and due <= until:
            self.clock.advance(max(0.0, due - self.clock()))
            self.step_due()
        self.clock.advance(max(0.0, until - self.clock()))

    # -- the interpreter ------------------------------------------------------------------------------
    def _interpret(self, execution: Execution, machine: StateMachine) -> Steps:
        definition = machine.definition  # kept: an update applies to new executions only
        try:
            self._event(execution, "ExecutionStarted", input=execution.input, roleArn="")
            data: Any = json.loads(execution.input)
            name: str | None = str(definition["StartAt"])
            while name is not None:
                if machine.status != "ACTIVE":  # deleted: aborted at the next state transition
                    self._end(execution, ABORTED, "ExecutionAborted", error="", cause="the state machine was deleted")
                    return
                name, data = yield from self._state(execution, name, definition["States"][name], data)
        except _Closed:
            return

    def _state(self, execution: Execution, name: str, state: dict[str, Any], data: Any) -> Generator[float, None, Any]:
        """Run one state: (the next state's name or None, the output)."""
        kind = str(state["Type"])
        execution.transitions += 1
        self._event(execution, f"{kind}StateEntered", name=name, input=data)
        context = self._context(execution, name)
        try:
            if kind == "Task":
                output = yield from self._task(execution, state, data, context)
            elif kind == "Pass":
                effective = asl.process_input(state, data, context)
                output = asl.process_output(state, data, state.get("Result", effective), context)
            elif kind in ("Choice", "Wait", "Succeed"):
                effective = asl.select(state, "InputPath", data, context)
                output = asl.select(state, "OutputPath", effective, context)
                if kind == "Choice":
                    next_name = asl.choose(state, effective, context)
                    self._event(execution, "ChoiceStateExited", name=name, output=output)
                    return next_name, output
                if kind == "Wait":
                    until = self._wait_until(state, effective, context)
                    if until > self.clock():
                        yield until
            elif kind == "Fail":
                self._fail(execution, *_fail_fields(state, data, context))
            else:
                raise NotImplementedError(f"{kind} states are not emulated")
            if _json_size(output) > MAX_PAYLOAD_BYTES:
                raise StatesError(asl.DATA_LIMIT, f"The state/task '{name}' returned a result exceeding 262144 bytes")
        except StatesError as error:
            caught = _catcher(state, error)
            if caught is None:
                self._fail(execution, error.error, error.cause)
            output = asl.write(data, caught.get("ResultPath", "$"), {"Error": error.error, "Cause": error.cause})
            self._event(execution, f"{kind}StateExited", name=name, output=output)
            return str(caught["Next"]), output
        self._event(execution, f"{kind}StateExited", name=name, output=output)
        if kind == "Succeed" or state.get("End"):
            self._end(execution, SUCCEEDED, "ExecutionSucceeded", output=output)
            return None, output
        return str(state["Next"]), output

    def _task(
        self, execution: Execution, state: dict[str, Any], data: Any, context: dict[str, Any]
    ) -> Generator[float, None, Any]:
        resource = str(state["Resource"])
        effective = asl.process_input(state, data, context)
        if resource == LAMBDA_INVOKE:
            function_arn, payload, prefix = str(effective["FunctionName"]), effective.get("Payload"), "Task"
        elif resource.startswith("arn:aws:lambda:") and ":function:" in resource:
            function_arn, payload, prefix = resource, effective, "LambdaFunction"
        else:
            raise NotImplementedError(
                f"Task resource {resource!r} is not emulated (Lambda function ARNs and {LAMBDA_INVOKE})"
            )
        retriers: list[dict[str, Any]] = state.get("Retry", [])
        attempts = [0] * len(retriers)
        while True:
            context["State"]["RetryCount"] = sum(attempts)
            self._event(execution, f"{prefix}Scheduled", resource=function_arn, input=payload)
            self._event(execution, f"{prefix}Started")
            execution.task_invocations += 1
            started = self.clock()
            try:
                result = self.lambdas.invoke(function_arn, payload)
                if "TimeoutSeconds" in state and self.clock() - started > float(state["TimeoutSeconds"]):
                    raise StatesError(asl.TIMEOUT, f"The task did not finish within {state['TimeoutSeconds']} seconds")
            except StatesError as error:
                failed = "TimedOut" if error.error == asl.TIMEOUT else "Failed"
                self._event(execution, f"{prefix}{failed}", error=error.error, cause=error.cause)
                index = next(
                    (i for i, r in enumerate(retriers) if asl.matches_error(r.get("ErrorEquals", []), error.error)),
                    None,
                )
                if index is None or attempts[index] >= int(retriers[index].get("MaxAttempts", 3)):
                    raise
                retrier = retriers[index]
                delay = (
                    float(retrier.get("IntervalSeconds", 1)) * float(retrier.get("BackoffRate", 2.0)) ** attempts[index]
                )
                delay = min(delay, float(retrier.get("MaxDelaySeconds", delay)))
                attempts[index] += 1
                execution.transitions += 1
                yield self.clock() + delay
                continue
            self._event(execution, f"{prefix}Succeeded", output=result)
            if resource == LAMBDA_INVOKE:
                result = {"ExecutedVersion": "$LATEST", "Payload": result, "StatusCode": 200}
            return asl.process_output(state, data, result, context)

    def _wait_until(self, state: Mapping[str, Any], data: Any, context: Mapping[str, Any]) -> float:
        if "Seconds" in state:
            return self.clock() + float(state["Seconds"])
        if "SecondsPath" in state:
            # Step Functions' wording (as LocalStack's AWS snapshots record it).
            path = str(state["SecondsPath"])
            if not asl.present(data, path, context):
                raise StatesError(asl.RUNTIME, f"The SecondsPath parameter does not reference an input value: {path}")
            seconds = asl.read(data, path, context)
            if not isinstance(seconds, int) or isinstance(seconds, bool):
                raise StatesError(
                    asl.RUNTIME, f"The SecondsPath parameter cannot be parsed as a long value: {path} == {seconds}"
                )
            if seconds < 0:
                raise StatesError(
                    asl.RUNTIME, f"The SecondsPath parameter references a negative value: {path} == {seconds}"
                )
            return self.clock() + seconds
        stamp = state["Timestamp"] if "Timestamp" in state else asl.read(data, str(state["TimestampPath"]), context)
        when = asl.parse_timestamp(stamp)
        if when is None:
            raise StatesError(asl.RUNTIME, f"The Timestamp is not a valid RFC 3339 timestamp: {stamp!r}")
        return when

    def _context(self, execution: Execution, state_name: str) -> dict[str, Any]:
        return {
            "Execution": {
                "Id": execution.arn,
                "Name": execution.name,
                "StartTime": _iso(execution.started_at),
                "Input": json.loads(execution.input),
            },
            "State": {"Name": state_name, "EnteredTime": _iso(self.clock()), "RetryCount": 0},
            "StateMachine": {"Id": execution.state_machine_arn, "Name": execution.state_machine_arn.rsplit(":", 1)[-1]},
        }

    # -- history ----------------------------------------------------------------------------------------
    def _event(self, execution: Execution, kind: str, **details: Any) -> None:
        if len(execution.history) >= self.history_limit - 1 and kind not in FINAL_EVENTS:
            cause = f"The execution reached the maximum number of history events ({self.history_limit})."
            self._fail(execution, asl.RUNTIME, cause)
        self._append(execution, kind, details)

    def _append(self, execution: Execution, kind: str, details: dict[str, Any]) -> None:
        execution.history.append(HistoryEvent(len(execution.history) + 1, self.clock(), kind, details))

    def _fail(self, execution: Execution, error: str, cause: str) -> NoReturn:
        """End the execution FAILED from inside the interpreter."""
        self._end(execution, FAILED, "ExecutionFailed", error=error, cause=cause)
        raise _Closed

    def _end(self, execution: Execution, status: str, kind: str, **details: Any) -> None:
        """Record the final history event and the execution's end."""
        self._append(execution, kind, details)
        execution.status, execution.stopped_at = status, self.clock()
        execution.error, execution.cause = str(details.get("error", "")), str(details.get("cause", ""))
        if "output" in details:
            execution.output = json.dumps(details["output"])
        self._deadlines.pop(execution.arn, None)


def _catcher(state: Mapping[str, Any], error: StatesError) -> dict[str, Any] | None:
    for catcher in state.get("Catch", []):
        if asl.matches_error(catcher.get("ErrorEquals", []), error.error):
            return dict(catcher)
    return None


def _fail_fields(state: Mapping[str, Any], data: Any, context: Mapping[str, Any]) -> tuple[str, str]:
    error = asl.read(data, state["ErrorPath"], context) if "ErrorPath" in state else state.get("Error", "")
    cause = asl.read(data, state["CausePath"], context) if "CausePath" in state else state.get("Cause", "")
    return str(error), str(cause)


def _parse_definition(definition: str | Mapping[str, Any], operation: str) -> dict[str, Any]:
    try:
        parsed = json.loads(definition) if isinstance(definition, str) else json.loads(json.dumps(definition))
    except ValueError as error:
        raise client_error(
            "InvalidDefinition", f"Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: {error}'", operation
        ) from error
    problems = asl.validate(parsed)
    if problems:
        raise client_error("InvalidDefinition", f"Invalid State Machine Definition: '{'; '.join(problems)}'", operation)
    result: dict[str, Any] = parsed
    return result
