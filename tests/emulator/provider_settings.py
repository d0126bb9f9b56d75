"""The import provider as synthesized: its waiter's timing, and a framework running the real handler.

CDK's Provider synthesizes a Step Functions waiter whose ``framework-isComplete-task`` retries every
``IntervalSeconds`` up to ``MaxAttempts`` times, and the construct sets the handler's wait budget
in the on_event function's environment. ``handler_framework`` wires the real handler to the
emulated region's client and virtual clock with those settings, and to the region's Step Functions
(``start_waiter``, ``stop_waiter``) and wait condition handles (``signal``); its ``wait_step`` is the
code of the template's ``contract.WAIT_STEP`` functions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from constructs_personalize.handlers.dataset_import import contract, lifecycle
from tests.emulator.provider_framework import ProviderFramework
from tests.emulator.stack_template import Template
from tests.emulator.step_functions import TaskFn
from tests.emulator.world import World

WAIT_STEP_HANDLER = contract.WAIT_STEP  # the Handler of a long import's polling function


def wait_settings(spec: Template) -> tuple[float, float, float]:
    """(query interval, total timeout, handler wait budget) as synthesized."""
    definitions = [
        "".join(part for part in spec.properties(lid)["DefinitionString"]["Fn::Join"][1] if isinstance(part, str))
        for lid in spec.of_type("AWS::StepFunctions::StateMachine")
        if isinstance(spec.properties(lid).get("DefinitionString"), dict)
    ]
    # The Provider's waiter (a long import's own waiting machine is another one).
    waiters = [definition for definition in definitions if '"framework-isComplete-task"' in definition]
    if not waiters:
        raise LookupError("the template has no Provider framework waiter state machine")
    definition = waiters[0]
    retry = json.loads(re.sub(r'"Resource":"[^"]*"', '"Resource":""', definition))
    retry = retry["States"]["framework-isComplete-task"]["Retry"][0]
    budgets = {
        spec.resources[lid]["Properties"]["Environment"]["Variables"].get(contract.WAIT_BUDGET_ENV)
        for lid in spec.of_type("AWS::Lambda::Function")
        if spec.resources[lid]["Properties"].get("Handler") == contract.ON_EVENT
    }
    (budget,) = budgets
    interval = float(retry["IntervalSeconds"])
    return interval, interval * retry["MaxAttempts"], float(budget)


def handler_framework(
    world: World,
    *,
    query_interval: float,
    total_timeout: float,
    wait_budget: float,
    log: Callable[[str], None] | None = None,
    **overrides: Any,
) -> ProviderFramework:
    """The Provider framework with the real handler, on the emulated region's client and clock."""
    handler = lifecycle.DatasetImportHandler(
        world.personalize(),
        start_client=world.personalize_single_attempt(),
        clock=world.clock,
        wait_budget_seconds=wait_budget,
        emit=log or _discard,
        start_waiter=world.start_waiter,
        signal=world.signal,
        stop_waiter=world.stop_waiter,
    )
    functions: dict[str, TaskFn] = {WAIT_STEP_HANDLER: handler.wait_step}
    settings: dict[str, Any] = {
        "on_event": handler.on_event,
        "is_complete": handler.is_complete,
        "clock": world.clock,
        "query_interval": query_interval,
        "total_timeout": total_timeout,
        "functions": functions,
    }
    settings.update(overrides)
    return ProviderFramework(**settings)


def _discard(_line: str) -> None:
    pass
