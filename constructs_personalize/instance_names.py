"""Names that Personalize keeps unique per account and region, derived per deployed stack instance.

A schema's or dataset group's ARN holds only its name, so two copies of one stack in one account
(stages, pull-request stacks) or a stack deleted and deployed again while the old one is still being
deleted would collide on a fixed name. ``instance_name`` appends the first 8 hex digits of the deployed
stack's unique id (``arn:...:stack/<name>/<uuid>``), known only at deploy time.
"""

from __future__ import annotations

from aws_cdk import Aws, Fn

from constructs_personalize import validators
from constructs_personalize.handlers.dataset_import.contract import JOB_NAME_MAX

# "-" and 8 hex digits of the stack's id.
SUFFIX_CHARS = 9


def instance_name(base: str, *, max_length: int = JOB_NAME_MAX) -> str:
    """``<base>-<8 hex of the stack instance>``: ``base`` is cut to fit ``max_length`` (63 by default)."""
    if validators.is_token(base):
        raise ValueError(f"instance_name takes a literal base name, got a token {base!r}")
    cut = base[: max_length - SUFFIX_CHARS].rstrip("-_")
    validators.validate_personalize_name("base name", cut)
    stack_uuid = Fn.select(2, Fn.split("/", Aws.STACK_ID))
    return Fn.join("-", [cut, Fn.select(0, Fn.split("-", stack_uuid))])
