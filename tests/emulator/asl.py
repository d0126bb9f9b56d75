"""The Amazon States Language (JSONPath flavour) as Step Functions evaluates it, without the scheduling.

``step_functions.py`` runs executions; this module holds what a state does with data:
- paths: ``$``, ``$.a.b``, ``$['a b']``, ``$.a[0]`` on the state's data, ``$$.…`` on the context
  object (wildcards, filters and slices raise NotImplementedError);
- InputPath / Parameters / ResultSelector / ResultPath / OutputPath (``process_input``,
  ``process_output``); ``"key.$"`` fields of Parameters and ResultSelector read a path; intrinsic
  functions (``States.Format(...)``) raise NotImplementedError;
- Choice rules (``choose``): the String*, Numeric*, Boolean*, Timestamp* comparisons and their
  ``…Path`` forms, Is* type tests, And / Or / Not. A comparison whose Variable is missing from the
  input is a States.Runtime error, as in Step Functions; a value of another type compares false;
  no rule matching and no Default is States.NoChoiceMatched;
- Retry / Catch matching (``matches_error``): States.ALL matches every error but States.Runtime and
  States.DataLimitExceeded (terminal in Step Functions), States.TaskFailed every one but those and
  States.Timeout;
- ``validate``: what CreateStateMachine checks before it accepts a definition (start state, every
  transition target, End/Next, one wait duration, States.ALL alone and last).

Every runtime failure is a ``StatesError`` with Step Functions' error name and a cause.
"""

from __future__ import annotations

import copy
import json
import operator
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

RUNTIME = "States.Runtime"
DATA_LIMIT = "States.DataLimitExceeded"
TIMEOUT = "States.Timeout"
TERMINAL_ERRORS = frozenset({RUNTIME, DATA_LIMIT})
STATE_TYPES = frozenset({"Task", "Pass", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map"})
WAIT_FIELDS = ("Seconds", "SecondsPath", "Timestamp", "TimestampPath")

_TOKEN = re.compile(r"\.([^.\[\]'\"]+)|\['([^']*)'\]|\[(\d+)\]")


class StatesError(Exception):
    """A failure inside an execution: ``error`` is what Retry / Catch ErrorEquals match."""

    def __init__(self, error: str, cause: str = "") -> None:
        super().__init__(f"{error}: {cause}" if cause else error)
        self.error = error
        self.cause = cause


class _Missing(Exception):
    pass


# -- paths ------------------------------------------------------------------------------------------------
def _steps(path: str) -> tuple[bool, list[str | int]]:
    """(reads the context object?, the steps after the root)."""
    if path.startswith("$$"):
        context, rest = True, path[2:]
    elif path.startswith("$"):
        context, rest = False, path[1:]
    else:
        raise StatesError(RUNTIME, f"Invalid path '{path}': a path starts with '$'")
    if any(char in rest for char in "*?@") or ".." in rest or ":" in rest:
        raise NotImplementedError(f"JSONPath {path!r}: wildcards, filters and slices are not emulated")
    steps: list[str | int] = []
    position = 0
    while position < len(rest):
        match = _TOKEN.match(rest, position)
        if match is None:
            raise StatesError(RUNTIME, f"Invalid path '{path}'")
        name, quoted, index = match.groups()
        steps.append(int(index) if index is not None else (name if name is not None else quoted))
        position = match.end()
    return context, steps


def _walk(value: Any, steps: list[str | int]) -> Any:
    for step in steps:
        in_list = isinstance(step, int) and isinstance(value, list) and 0 <= step < len(value)
        in_object = isinstance(step, str) and isinstance(value, dict) and step in value
        if not (in_list or in_object):
            raise _Missing
        value = value[step]
    return value


def present(data: Any, path: str, context: Mapping[str, Any] | None = None) -> bool:
    reads_context, steps = _steps(path)
    try:
        _walk(context if reads_context else data, steps)
    except _Missing:
        return False
    return True


def read(data: Any, path: str, context: Mapping[str, Any] | None = None, *, what: str = "") -> Any:
    """The value at ``path``; a States.Runtime error if there is none."""
    reads_context, steps = _steps(path)
    try:
        return copy.deepcopy(_walk(context if reads_context else data, steps))
    except _Missing:
        where = f" {what}" if what else ""
        raise StatesError(
            RUNTIME, f"Invalid path '{path}'{where}: the path could not be found in the input '{_brief(data)}'"
        ) from None


def write(data: Any, path: str | None, value: Any) -> Any:
    """``data`` with ``value`` placed at the ResultPath ``path`` ($: replaced; None: discarded)."""
    if path is None:
        return data
    reads_context, steps = _steps(path)
    if reads_context or any(isinstance(step, int) for step in steps):
        raise StatesError(RUNTIME, f"Invalid ResultPath '{path}'")
    if not steps:
        return value
    result = copy.deepcopy(data)
    if not isinstance(result, dict):
        raise StatesError(RUNTIME, f"Unable to apply ResultPath '{path}' to input '{_brief(data)}'")
    target = result
    for step in steps[:-1]:
        child = target.setdefault(str(step), {})
        if not isinstance(child, dict):
            raise StatesError(RUNTIME, f"Unable to apply ResultPath '{path}' to input '{_brief(data)}'")
        target = child
    target[str(steps[-1])] = value
    return result


def render(template: Any, data: Any, context: Mapping[str, Any]) -> Any:
    """Parameters / ResultSelector / Payload templates: ``"key.$": "$.path"`` fields read the path."""
    if isinstance(template, list):
        return [render(item, data, context) for item in template]
    if not isinstance(template, dict):
        return copy.deepcopy(template)
    rendered: dict[str, Any] = {}
    for key, value in template.items():
        if key.endswith(".$"):
            if not isinstance(value, str) or not value.startswith("$"):
                raise NotImplementedError(f"{key}: {value!r}: intrinsic functions are not emulated")
            rendered[key[:-2]] = read(data, value, context, what=f"for the field '{key}'")
        else:
            rendered[key] = render(value, data, context)
    return rendered


def process_input(state: Mapping[str, Any], data: Any, context: Mapping[str, Any]) -> Any:
    """The effective input: InputPath, then Parameters."""
    selected = select(state, "InputPath", data, context)
    if "Parameters" in state:
        return render(state["Parameters"], selected, context)
    return selected


def process_output(state: Mapping[str, Any], data: Any, result: Any, context: Mapping[str, Any]) -> Any:
    """The state's output: ResultSelector on the result, ResultPath into the raw input, OutputPath."""
    if "ResultSelector" in state:
        result = render(state["ResultSelector"], result, context)
    combined = write(data, state.get("ResultPath", "$"), result)
    return select(state, "OutputPath", combined, context)


def select(state: Mapping[str, Any], field: str, data: Any, context: Mapping[str, Any]) -> Any:
    """InputPath or OutputPath applied: the path's value ($ by default; null: {})."""
    if field in state and state[field] is None:
        return {}
    return read(data, state.get(field, "$"), context, what=f"for {field}")


def _brief(data: Any) -> str:
    text = json.dumps(data, default=str)
    return text if len(text) <= 200 else text[:200] + "..."


# -- Choice -----------------------------------------------------------------------------------------------
def choose(state: Mapping[str, Any], data: Any, context: Mapping[str, Any]) -> str:
    """The Next of the first matching rule, else Default, else States.NoChoiceMatched."""
    for rule in state.get("Choices", []):
        if _holds(rule, data, context):
            return str(rule["Next"])
    if "Default" in state:
        return str(state["Default"])
    raise StatesError("States.NoChoiceMatched", f"No Matches! (input: {_brief(data)})")


_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "Equals": operator.eq,
    "LessThan": operator.lt,
    "GreaterThan": operator.gt,
    "LessThanEquals": operator.le,
    "GreaterThanEquals": operator.ge,
}


def _holds(rule: Mapping[str, Any], data: Any, context: Mapping[str, Any]) -> bool:
    if "And" in rule:
        return all(_holds(item, data, context) for item in rule["And"])
    if "Or" in rule:
        return any(_holds(item, data, context) for item in rule["Or"])
    if "Not" in rule:
        return not _holds(rule["Not"], data, context)
    variable = str(rule["Variable"])
    (comparison,) = [key for key in rule if key not in ("Variable", "Next", "Comment")]
    expected = rule[comparison]
    if comparison == "IsPresent":
        return present(data, variable, context) == bool(expected)
    value = read(
        data, variable, context, what="in a Choice rule: the choice state's condition path references an invalid value"
    )
    if comparison.startswith("Is"):
        return _is_type(comparison[2:], value) == bool(expected)
    if comparison.endswith("Path"):
        comparison = comparison.removesuffix("Path")
        expected = read(data, str(expected), context, what=f"for {comparison}Path")
    return _compare(comparison, value, expected)


def _is_type(kind: str, value: Any) -> bool:
    checks = {
        "Null": value is None,
        "Boolean": isinstance(value, bool),
        "Numeric": isinstance(value, (int, float)) and not isinstance(value, bool),
        "String": isinstance(value, str),
        "Timestamp": isinstance(value, str) and parse_timestamp(value) is not None,
    }
    return checks[kind]


def _compare(comparison: str, value: Any, expected: Any) -> bool:
    if comparison == "BooleanEquals":
        return isinstance(value, bool) and value == expected
    if comparison == "StringMatches":
        return isinstance(value, str) and _glob(str(expected)).fullmatch(value) is not None
    for prefix in ("String", "Numeric", "Timestamp"):
        if comparison.startswith(prefix):
            compare = _COMPARE[comparison.removeprefix(prefix)]
            if prefix == "String":
                return isinstance(value, str) and isinstance(expected, str) and bool(compare(value, expected))
            if prefix == "Numeric":
                numeric = _is_type("Numeric", value) and _is_type("Numeric", expected)
                return numeric and bool(compare(value, expected))
            left, right = parse_timestamp(value), parse_timestamp(expected)
            return left is not None and right is not None and bool(compare(left, right))
    raise NotImplementedError(f"Choice comparison {comparison} is not emulated")


def _glob(pattern: str) -> re.Pattern[str]:
    parts = re.split(r"(\\\*|\\\\|\*)", pattern)
    return re.compile(
        "".join(".*" if part == "*" else re.escape(part[1:] if part in ("\\*", "\\\\") else part) for part in parts)
    )


def parse_timestamp(value: Any) -> float | None:
    """Seconds since the epoch of an RFC 3339 timestamp (as Step Functions requires), else None."""
    if not isinstance(value, str) or "T" not in value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.timestamp() if parsed.tzinfo is not None else None


# -- Retry and Catch --------------------------------------------------------------------------------------
def matches_error(error_equals: list[str], error: str) -> bool:
    if error in error_equals:
        return True
    if error in TERMINAL_ERRORS:
        return False
    return "States.ALL" in error_equals or ("States.TaskFailed" in error_equals and error != TIMEOUT)


# -- CreateStateMachine's checks --------------------------------------------------------------------------
def validate(definition: Any) -> list[str]:
    """Problems Step Functions reports as 'Invalid State Machine Definition' (empty: accepted)."""
    if not isinstance(definition, dict) or not isinstance(definition.get("States"), dict):
        return ["SCHEMA_VALIDATION_FAILED: The field 'States' is required at /"]
    if definition.get("QueryLanguage", "JSONPath") != "JSONPath":
        return []  # JSONata: not checked here; executions of it are not emulated
    states: dict[str, Any] = definition["States"]
    problems = []
    if definition.get("StartAt") not in states:
        problems.append(f"MISSING_TRANSITION_TARGET: Missing 'StartAt' target: {definition.get('StartAt')} at /StartAt")
    for name, state in states.items():
        problems.extend(f"{problem} at /States/{name}" for problem in _state_problems(state, states))
    return problems


def _state_problems(state: Any, states: Mapping[str, Any]) -> list[str]:
    if not isinstance(state, dict) or state.get("Type") not in STATE_TYPES:
        return [
            f"SCHEMA_VALIDATION_FAILED: unknown state Type {state.get('Type') if isinstance(state, dict) else state!r}"
        ]
    kind = state["Type"]
    problems = []
    targets = [("Next", state.get("Next"))] if "Next" in state else []
    if kind == "Choice":
        if not state.get("Choices"):
            problems.append("SCHEMA_VALIDATION_FAILED: a Choice state needs Choices")
        targets += [("Choices/Next", rule.get("Next")) for rule in state.get("Choices", [])]
        if "Default" in state:
            targets.append(("Default", state["Default"]))
    elif kind not in ("Succeed", "Fail") and ("Next" in state) == bool(state.get("End")):
        problems.append("SCHEMA_VALIDATION_FAILED: exactly one of 'Next' and 'End' is required")
    if kind == "Task" and not state.get("Resource"):
        problems.append("SCHEMA_VALIDATION_FAILED: The field 'Resource' is required")
    if kind == "Wait" and sum(field in state for field in WAIT_FIELDS) != 1:
        problems.append(f"SCHEMA_VALIDATION_FAILED: exactly one of {', '.join(WAIT_FIELDS)} is required")
    for field in ("Retry", "Catch"):
        rules = state.get(field, [])
        for index, rule in enumerate(rules):
            errors = rule.get("ErrorEquals", [])
            if "States.ALL" in errors and (len(errors) > 1 or index != len(rules) - 1):
                problems.append(f"SCHEMA_VALIDATION_FAILED: States.ALL must appear alone in the last {field}er")
        targets += [("Catch/Next", rule.get("Next")) for rule in (rules if field == "Catch" else [])]
    problems += [
        f"MISSING_TRANSITION_TARGET: Missing '{field}' target: {target}"
        for field, target in targets
        if target not in states
    ]
    return problems
