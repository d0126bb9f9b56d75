"""The readable part of a derived import job name.

Personalize job names are unique per account and region and taken for good (there is no delete).
The handler derives the full name at deploy time: ``<prefix>-<16 hex>``, where the hash covers the
deployed stack instance (its StackId) and what is imported. At synth only the readable prefix is
known: the construct's path inside its stack.
"""

from __future__ import annotations

import re

from aws_cdk import Stack
from constructs import Construct

from constructs_personalize.validators import JOB_NAME_MAX

HASH_CHARS = 16
PREFIX_MAX = JOB_NAME_MAX - HASH_CHARS - 1
_UNSAFE = re.compile(r"[^a-zA-Z0-9\-_]+")


def job_name_prefix(construct: Construct) -> str:
    """``Stage-Interactions-Import`` for ``App/Stack/Stage/Interactions/Import``: valid, at most 46 characters."""
    stack = Stack.of(construct)
    relative = "-".join(scope.node.id for scope in construct.node.scopes[len(stack.node.scopes) :])
    prefix = _UNSAFE.sub("-", relative).strip("-_")[:PREFIX_MAX].rstrip("-_")
    if not prefix or not prefix[0].isalnum():
        prefix = f"import-{prefix}"[:PREFIX_MAX].rstrip("-_")
    return prefix
