"""The Lambda entry points: a custom resource handler that runs an Amazon Personalize dataset import job.

Runs in AWS Lambda behind the CDK Provider framework (``on_event``, ``is_complete``) and as the long
waiter state machine's task (``wait_step``). The asset is the ``handlers`` folder: this package imports
its modules relatively, with the standard library and boto3 only, never ``constructs_personalize``.
"""

from __future__ import annotations

import functools
import os
import time
from typing import Any

import boto3
from botocore.config import Config

from .contract import DEFAULT_WAIT_BUDGET_SECONDS, WAIT_BUDGET_ENV
from .lifecycle import DatasetImportHandler
from .request import Response


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


def on_event(event: dict[str, Any], context: object) -> Response:
    """Provider framework entry point for Create, Update and Delete."""
    return _default_handler().on_event(event)


def is_complete(event: dict[str, Any], context: object) -> Response:
    """Provider framework entry point, called every query interval until complete."""
    return _default_handler().is_complete(event)


def wait_step(event: dict[str, Any], context: object) -> Response:
    """The long waiter's task, called by its state machine every wait interval until Done."""
    return _default_handler().wait_step(event)
