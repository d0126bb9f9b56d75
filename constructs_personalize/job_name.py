"""Deterministic import job names derived from an import's inputs.

Personalize job names are taken for good (there is no delete), so a name must change exactly
when the import's inputs change: an unchanged stack re-deploys without a new job, and changed
inputs (a new data asset, another dataset, another mode) start a new one.
"""

from __future__ import annotations

import hashlib
import json
import re

from constructs_personalize.validators import JOB_NAME_MAX

HASH_CHARS = 16
_UNSAFE = re.compile(r"[^a-zA-Z0-9\-_]+")


def derive_job_name(readable_prefix: str, resolved_inputs: object) -> str:
    """``<prefix>-<hash>``: a valid job name of at most 63 characters.

    ``resolved_inputs`` is the JSON-serialisable form of every input (CloudFormation intrinsics
    included, as ``Stack.resolve`` renders them) plus the content hashes of local data assets.
    """
    digest = hashlib.sha256(json.dumps(resolved_inputs, sort_keys=True, separators=(",", ":")).encode("utf-8"))
    suffix = digest.hexdigest()[:HASH_CHARS]
    prefix = _UNSAFE.sub("-", readable_prefix).strip("-_")[: JOB_NAME_MAX - HASH_CHARS - 1].rstrip("-_")
    if not prefix or not prefix[0].isalnum():
        prefix = "import" + (f"-{prefix}" if prefix else "")
        prefix = prefix[: JOB_NAME_MAX - HASH_CHARS - 1].rstrip("-_")
    return f"{prefix}-{suffix}"
