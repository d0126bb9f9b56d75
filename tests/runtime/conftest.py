"""Shared pieces of the handler tests: CloudFormation events, a stubbed client, a fake clock."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from constructs_personalize.handlers.dataset_import import lifecycle
from tests.cloudformation_events import custom_resource_event, service_token
from tests.constants import DATASET_ARN, ROLE_ARN
from tests.emulator.clock import VirtualClock

JOB_NAME = "Interactions-0123456789abcdef"
JOB_ARN = f"arn:aws:personalize:eu-west-1:123456789012:dataset-import-job/{JOB_NAME}"
LOCATION = "s3://training-data/Interactions-1a2b3c4d/"
RESPONSE_URL = "https://cloudformation-custom-resource-response-euwest1.s3.amazonaws.com/secret?X-Amz-Signature=abc"
BUDGET = 3300.0
QUERY_INTERVAL = 30.0


def props(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "ServiceToken": service_token(),
        "DatasetArn": DATASET_ARN,
        "JobName": JOB_NAME,
        "RoleArn": ROLE_ARN,
        "DataLocation": LOCATION,
        "ImportMode": "FULL",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def job(status: str, name: str = JOB_NAME, **overrides: Any) -> dict[str, Any]:
    description: dict[str, Any] = {
        "jobName": name,
        "datasetImportJobArn": f"arn:aws:personalize:eu-west-1:123456789012:dataset-import-job/{name}",
        "datasetArn": DATASET_ARN,
        "dataSource": {"dataLocation": LOCATION},
        "roleArn": ROLE_ARN,
        "status": status,
        "importMode": "FULL",
    }
    description.update(overrides)
    return {"datasetImportJob": description}


def create_params(name: str = JOB_NAME, **extra: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "jobName": name,
        "datasetArn": DATASET_ARN,
        "dataSource": {"dataLocation": LOCATION},
        "roleArn": ROLE_ARN,
        "importMode": "FULL",
    }
    params.update(extra)
    return params


@dataclass
class Harness:
    """A handler wired to a stubbed client, a fake clock and a captured log."""

    stubber: Stubber
    clock: VirtualClock
    handler: lifecycle.DatasetImportHandler
    lines: list[str] = field(default_factory=list)

    def invoke(
        self,
        request_type: str,
        properties: dict[str, Any] | None = None,
        old_properties: dict[str, Any] | None = None,
        physical_id: str | None = None,
    ) -> dict[str, Any]:
        """A CloudFormation event as the Provider framework hands it to on_event."""
        return custom_resource_event(
            request_type,
            properties if properties is not None else props(),
            logical_id="InteractionsImport",
            request_id="5d8f8f7e-0000-4000-8000-000000000000",
            response_url=RESPONSE_URL,
            old_properties=old_properties,
            physical_id=physical_id,
        )

    def start(self, event: dict[str, Any]) -> dict[str, Any]:
        """on_event, then the event is_complete receives (the framework merges the result in)."""
        result = self.handler.on_event(event)
        return {**event, **result}


@pytest.fixture
def harness() -> Iterator[Harness]:
    client = boto3.client(
        "personalize", region_name="eu-west-1", aws_access_key_id="test", aws_secret_access_key="test"
    )
    clock = VirtualClock()
    lines: list[str] = []
    handler = lifecycle.DatasetImportHandler(client, clock=clock, wait_budget_seconds=BUDGET, emit=lines.append)
    with Stubber(client) as stubber:
        yield Harness(stubber=stubber, clock=clock, handler=handler, lines=lines)
        stubber.assert_no_pending_responses()
