"""Remember data that passed, keyed by content, so an unchanged re-synth costs a file lookup.

The key combines what decides the verdict: the data's content hash (CDK's asset hash, which the
synth computes anyway), the schema, the import mode and this check's version. Only passes are
stored: failing data is checked again, as it is being fixed. The directory is
``$CONSTRUCTS_PERSONALIZE_CACHE_DIR``, else ``$XDG_CACHE_HOME/constructs_personalize``, else
``~/.cache/constructs_personalize``; a cache that cannot be written is simply not used.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict
from pathlib import Path

from constructs_personalize.preflight import DataSummary
from constructs_personalize.schema import DatasetSchema

VERSION = "2"
ENV = "CONSTRUCTS_PERSONALIZE_CACHE_DIR"


def directory() -> Path:
    if os.environ.get(ENV):
        return Path(os.environ[ENV])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "constructs_personalize"


def key(content_hash: str, schema: DatasetSchema, import_mode: str) -> str:
    material = json.dumps([VERSION, content_hash, schema.dataset_type.value, schema.to_avro(), import_mode.upper()])
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def load(cache_key: str) -> DataSummary | None:
    try:
        return DataSummary(**json.loads((directory() / "preflight" / f"{cache_key}.json").read_text()))
    except (OSError, ValueError, TypeError):
        return None


def store(cache_key: str, summary: DataSummary) -> None:
    target = directory() / "preflight" / f"{cache_key}.json"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(asdict(summary)))
        temporary.replace(target)  # atomic: parallel synths never read half a file
    except OSError:
        pass
