"""CloudFormation-only templates for the emulated CloudFormation's own tests.

Nothing here is shaped like what the library synthesizes: a test that needs the library's resources
synthesizes them (``tests/lifecycle/test_synthesized_stacks.py``, ``tests/lifecycle/``). ``write`` puts a template and
an empty asset manifest where a cloud assembly holds them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write(directory: Path, stack_name: str, resources: dict[str, Any], **sections: Any) -> Path:
    """Write one stack's template (``sections``: Outputs, Parameters, Conditions); the assembly directory."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{stack_name}.template.json").write_text(json.dumps({"Resources": resources, **sections}))
    (directory / f"{stack_name}.assets.json").write_text(json.dumps({"files": {}}))
    return directory


def ref(logical_id: str) -> dict[str, Any]:
    return {"Ref": logical_id}


def get_att(logical_id: str, attribute: str = "Arn") -> dict[str, Any]:
    return {"Fn::GetAtt": [logical_id, attribute]}


def bucket() -> dict[str, Any]:
    return {"Type": "AWS::S3::Bucket", "Properties": {}}


def parameter(value: Any) -> dict[str, Any]:
    return {"Type": "AWS::SSM::Parameter", "Properties": {"Type": "String", "Value": value}}
