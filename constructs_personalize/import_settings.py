"""What is one value per stack, set once: how often the deployment checks a job, and how long it waits.

All ``DatasetImport``s of a stack share one provider (one set of Lambda functions and one waiter state
machine), so its query interval and total timeout are the stack's, not an import's. They are set with
``DatasetImport.configure(stack, ...)`` before the stack's first import; an import that finds none uses
the defaults. This module also keeps the count behind the 5-jobs quota warning.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

from aws_cdk import Annotations, Duration, Stack
from constructs import Construct

from constructs_personalize import validators
from constructs_personalize.handlers.dataset_import import contract

DEFAULT_QUERY_INTERVAL = Duration.seconds(30)
DEFAULT_TOTAL_TIMEOUT = Duration.hours(1)


@dataclass(frozen=True)
class ImportSettings:
    query_interval: Duration = DEFAULT_QUERY_INTERVAL
    total_timeout: Duration = DEFAULT_TOTAL_TIMEOUT

    def seconds(self) -> tuple[float, float]:
        return self.query_interval.to_seconds(), self.total_timeout.to_seconds()

    def describe(self) -> str:
        interval, total = self.query_interval.to_human_string(), self.total_timeout.to_human_string()
        return f"query_interval {interval}, total_timeout {total}"


@dataclass
class _StackState:
    settings: ImportSettings
    configured: bool = False
    first_import: str = ""
    waiting_imports: int = 0


_STACKS: weakref.WeakKeyDictionary[Stack, _StackState] = weakref.WeakKeyDictionary()


def configure(stack: Stack, *, query_interval: Duration, total_timeout: Duration) -> None:
    """Set the stack's wait settings; before its first import, and once (the same values again are fine).

    A nested stack has a provider of its own, so it is configured on its own.
    """
    if not isinstance(stack, Stack):
        raise TypeError(
            f"DatasetImport.configure takes the Stack whose imports it sets (one provider per stack), got "
            f"{type(stack).__name__} {getattr(getattr(stack, 'node', None), 'path', '')!r}"
        )
    settings = ImportSettings(query_interval, total_timeout)
    validators.validate_wait(query_interval, total_timeout)
    state = _STACKS.get(stack)
    if state is not None and state.settings.seconds() == settings.seconds():
        return
    if state is not None and state.first_import:
        raise ValueError(
            f"DatasetImport.configure({stack.node.path}, {settings.describe()}) comes after {state.first_import}, "
            f"which already built the stack's provider with {state.settings.describe()}: call configure before "
            "the stack's first DatasetImport"
        )
    if state is not None:
        raise ValueError(
            f"DatasetImport.configure({stack.node.path}) was already called with {state.settings.describe()}; "
            f"now {settings.describe()}: a stack has one provider, so one value of each"
        )
    _STACKS[stack] = _StackState(settings, configured=True)


def settings_for_import(stack: Stack, requested_by: str) -> ImportSettings:
    """The stack's settings, now fixed: the first import builds the provider with them."""
    state = _STACKS.setdefault(stack, _StackState(ImportSettings()))
    state.first_import = state.first_import or requested_by
    return state.settings


def count_waiting_import(imp: Construct, stack: Stack) -> None:
    """Warn from the sixth import of a stack that holds the deployment within its custom resource's hour."""
    state = _STACKS.setdefault(stack, _StackState(ImportSettings()))
    state.waiting_imports += 1
    if state.waiting_imports > contract.MAX_JOBS_IN_FLIGHT:
        wait = state.settings.total_timeout.to_human_string()
        Annotations.of(imp).add_warning_v2(
            "constructs_personalize:importQuota",
            f"stack {stack.stack_name} has {state.waiting_imports} imports that wait within the deployment (at most "
            f"{wait} each), but Personalize runs at most {contract.MAX_JOBS_IN_FLIGHT} import jobs per account and "
            "region at once, shared with everyone there: an import still waiting for a slot at the end of its wait "
            "fails the deploy. Use wait=ImportWait.up_to(...) to wait for a slot for up to 12 hours",
        )
