"""CloudFormation custom-resource requests, as the Provider framework hands them to on_event.

One builder for the handler's Stubber tests, the emulated stacks and the benchmark, so every
caller sends the same fields CloudFormation sends.
"""

from __future__ import annotations

import uuid
from typing import Any

from constructs_personalize import RESOURCE_TYPE
from tests.constants import ACCOUNT, REGION

__all__ = ["RESOURCE_TYPE", "custom_resource_event", "service_token"]


def service_token(region: str = REGION, account: str = ACCOUNT) -> str:
    return f"arn:aws:lambda:{region}:{account}:function:framework-onEvent"


def custom_resource_event(
    request_type: str,
    properties: dict[str, Any],
    *,
    logical_id: str,
    stack_name: str = "shop",
    region: str = REGION,
    account: str = ACCOUNT,
    request_id: str | None = None,
    response_url: str = "https://cloudformation-custom-resource-response.example/presigned",
    old_properties: dict[str, Any] | None = None,
    physical_id: str | None = None,
    stack_id: str | None = None,
) -> dict[str, Any]:
    """One request. ``stack_id``: the deployed stack instance's id (default: a fixed one for ``stack_name``).

    The top-level ServiceToken is the resource's ServiceToken property when it has one, as
    CloudFormation sends the function it invokes.
    """
    token = properties.get("ServiceToken")
    event: dict[str, Any] = {
        "RequestType": request_type,
        "ServiceToken": token if isinstance(token, str) else service_token(region, account),
        "ResponseURL": response_url,
        "StackId": stack_id or f"arn:aws:cloudformation:{region}:{account}:stack/{stack_name}/guid",
        "RequestId": request_id or str(uuid.uuid4()),
        "LogicalResourceId": logical_id,
        "ResourceType": RESOURCE_TYPE,
        "ResourceProperties": properties,
    }
    if old_properties is not None:
        event["OldResourceProperties"] = old_properties
    if physical_id is not None:
        event["PhysicalResourceId"] = physical_id
    return event
