"""The readable part of a derived import job name.

Personalize job names are unique per account and region and taken for good (there is no delete).
The handler derives the full name at deploy time: ``<prefix>-<16 hex>``, where the hash covers the
deployed stack instance (its StackId) and what is imported. At synth only the readable prefix is
known: the construct's path inside its stack.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Stack
from constructs import Construct

from constructs_personalize.handlers.dataset_import.contract import clean_job_name_prefix


@dataclass(frozen=True)
class Place:
    """Where a construct is, read from the construct tree once (each read is a call into jsii)."""

    path: str
    addr: str
    stack: Stack
    relative_ids: tuple[str, ...]
    """The construct's ids below its stack: ``("Stage", "Interactions", "Import")``."""

    @classmethod
    def of(cls, construct: Construct) -> Place:
        stack = Stack.of(construct)
        path = construct.node.path
        depth = len(stack.node.path.split("/"))
        return cls(path, construct.node.addr, stack, tuple(path.split("/")[depth:]))


def job_name_prefix(place: Place) -> str:
    """``Stage-Interactions-Import`` for ``App/Stack/Stage/Interactions/Import``: valid, at most 46 characters."""
    # The handler applies the same rule (the contract's) to the prefix it receives.
    return clean_job_name_prefix("-".join(place.relative_ids))
