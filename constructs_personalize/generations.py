"""What runs after a FULL import must run again when that FULL import does (docs/stack-life.md).

A FULL import replaces the dataset's bulk data, INCREMENTAL batches added to it included. So every
later import of the dataset in the stack carries the preceding FULL import's job name (``AfterJob``,
a ``Fn::GetAtt``): when the FULL import starts a new job (new data, a revert, a rollback),
CloudFormation sends the later imports an Update and they import again. The handler decides what
that means: a FULL import after it imports again; an INCREMENTAL batch is named after the bulk data
it was added to, so it is added again only when that bulk data is new.

A long wait's handle and condition cannot be updated, so their logical ids also follow the
preceding FULL import as synthesized. The order is known only once every import is declared: both
are settled at synth.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import cast

import jsii
from aws_cdk import CfnElement, IResolvable, IResolveContext, Stack
from constructs import Construct, IValidation

from constructs_personalize.handlers.dataset_import import contract
from constructs_personalize.ordering import ImportOrder


def identity_digest(scope: Construct, properties: Mapping[str, object], **extra: str) -> str:
    """A digest of what an import imports, as synthesized (its own properties, resolved)."""
    identity = {k: v for k, v in properties.items() if k not in contract.NOT_IDENTITY} | extra
    return hashlib.sha256(json.dumps(Stack.of(scope).resolve(identity), sort_keys=True).encode("utf-8")).hexdigest()


def after_job(order: ImportOrder, dataset_arn: str, requested_by: str) -> IResolvable:
    """The ``AfterJob`` property: the preceding FULL import's job name, or nothing (the key is left out)."""
    return cast(IResolvable, _AfterJob(order, dataset_arn, requested_by))


def follow_full_import(order: ImportOrder, dataset_arn: str, requested_by: str, *elements: CfnElement) -> None:
    """At synth, give ``elements`` (a wait handle and condition) logical ids that change with the preceding FULL."""
    if elements:
        elements[0].node.add_validation(_FollowFull(order, dataset_arn, requested_by, elements))


@jsii.implements(IResolvable)
class _AfterJob:
    def __init__(self, order: ImportOrder, dataset_arn: str, requested_by: str) -> None:
        self._order = order
        self._dataset_arn = dataset_arn
        self._requested_by = requested_by
        self.creation_stack: list[str] = []

    def resolve(self, _context: IResolveContext) -> object:
        before = self._order.full_before(self._dataset_arn, self._requested_by)
        return before[0] if before is not None else None

    def to_string(self) -> str:
        return "<AfterJob>"


@jsii.implements(IValidation)
class _FollowFull:
    def __init__(
        self, order: ImportOrder, dataset_arn: str, requested_by: str, elements: tuple[CfnElement, ...]
    ) -> None:
        self._order = order
        self._dataset_arn = dataset_arn
        self._requested_by = requested_by
        self._elements = elements

    def validate(self) -> list[str]:
        before = self._order.full_before(self._dataset_arn, self._requested_by)
        if before is not None:
            suffix = before[1][:8]
            for element in self._elements:
                element.override_logical_id(f"{Stack.of(element).get_logical_id(element)}{suffix}")
        return []
