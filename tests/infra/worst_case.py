"""A template's intrinsics resolved to the longest strings a real account could give them.

AWS sizes a policy as the account stores it: names and ARNs resolved, whitespace removed. A test
that measured the template as synthesized (``{"Ref": "X"}``) would understate every reference, so
each one becomes its worst case: the ``aws-us-gov`` partition, a 14-character region, generated
names at their maximum length (64 for a role or function, 63 for a bucket).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

PARTITION = "aws-us-gov"
REGION = "ap-southeast-2"
ACCOUNT = "123456789012"
STACK_UUID = "1b2c3d4e-0000-4000-8000-000000000001"
PSEUDO = {
    "AWS::Partition": PARTITION,
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::URLSuffix": "amazonaws.com.cn",
    "AWS::StackName": "s" * 128,
}
PSEUDO["AWS::StackId"] = f"arn:{PARTITION}:cloudformation:{REGION}:{ACCOUNT}:stack/{'s' * 128}/{STACK_UUID}"
# Generated physical names at the longest CloudFormation gives them (or the service allows).
NAME_LENGTH = {
    "AWS::IAM::Role": 64,
    "AWS::Lambda::Function": 64,
    "AWS::S3::Bucket": 63,
    "AWS::StepFunctions::StateMachine": 80,
    "AWS::Logs::LogGroup": 512,
}
NAME_PROPERTY = {
    "AWS::IAM::Role": "RoleName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::StepFunctions::StateMachine": "StateMachineName",
    "AWS::Logs::LogGroup": "LogGroupName",
}
SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


def compact(document: Any) -> str:
    """JSON as IAM and S3 count it: no whitespace."""
    return json.dumps(document, separators=(",", ":"))


class WorstCase:
    """Resolves values of one template; ``exports`` maps export names to worst-case values of other stacks."""

    def __init__(self, template: Mapping[str, Any], exports: Mapping[str, str] | None = None) -> None:
        self._resources: Mapping[str, Any] = template.get("Resources", {})
        self._exports = exports or {}

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (name, argument), *_ = value.items()
            if name == "Ref" or name.startswith("Fn::"):
                return self._intrinsic(name, argument)
        return {key: self.resolve(item) for key, item in value.items()}

    def _intrinsic(self, name: str, argument: Any) -> Any:
        if name == "Ref":
            return self.ref(str(argument))
        if name == "Fn::GetAtt":
            resource, attribute = argument.split(".", 1) if isinstance(argument, str) else argument
            return self.get_att(str(resource), str(self.resolve(attribute)))
        if name == "Fn::Join":
            delimiter, parts = argument
            return str(delimiter).join(str(part) for part in self.resolve(parts))
        if name == "Fn::Select":
            index, items = argument
            return self.resolve(items)[int(self.resolve(index))]
        if name == "Fn::Split":
            delimiter, source = argument
            return str(self.resolve(source)).split(str(delimiter))
        if name == "Fn::Sub":
            return self._sub(argument)
        if name == "Fn::ImportValue":
            return self._exports.get(str(self.resolve(argument)), "i" * 128)
        if name == "Fn::If":
            _, when_true, when_false = argument
            return max((self.resolve(when_true), self.resolve(when_false)), key=lambda v: len(compact(v)))
        raise AssertionError(f"intrinsic {name} is not resolved by this test helper")

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        resolved = {key: str(self.resolve(item)) for key, item in dict(variables).items()}

        def replace(match: re.Match[str]) -> str:
            variable = match.group(1)
            if variable in resolved:
                return resolved[variable]
            if "." in variable:
                resource, attribute = variable.split(".", 1)
                return str(self.get_att(resource, attribute))
            return str(self.ref(variable))

        return SUB_VARIABLE.sub(replace, str(text))

    def _type(self, logical_id: str) -> str:
        resource = self._resources.get(logical_id)
        if resource is None:
            raise AssertionError(f"Ref/GetAtt of {logical_id}, which is not in the template")
        return str(resource["Type"])

    def name(self, logical_id: str) -> str:
        """The resource's physical name: the one it is given, else the longest generated one."""
        kind = self._type(logical_id)
        given = self._resources[logical_id].get("Properties", {}).get(NAME_PROPERTY.get(kind, ""))
        if given is not None:
            return str(self.resolve(given))
        return "n" * NAME_LENGTH.get(kind, 64)

    def ref(self, logical_id: str) -> Any:
        if logical_id in PSEUDO:
            return PSEUDO[logical_id]
        kind = self._type(logical_id)
        if kind == "AWS::StepFunctions::StateMachine":
            return self._arn("states", f"stateMachine:{self.name(logical_id)}")
        if kind == "AWS::KMS::Key":
            return STACK_UUID
        if kind == "AWS::CloudFormation::WaitConditionHandle":
            return "https://" + "w" * 1017  # a presigned S3 URL
        return self.name(logical_id)

    def get_att(self, logical_id: str, attribute: str) -> Any:
        kind = self._type(logical_id)
        name = self.name(logical_id)
        known = {
            ("AWS::IAM::Role", "Arn"): f"arn:{PARTITION}:iam::{ACCOUNT}:role/{name}",
            ("AWS::IAM::Role", "RoleId"): "AROA" + "R" * 17,
            ("AWS::S3::Bucket", "Arn"): f"arn:{PARTITION}:s3:::{name}",
            ("AWS::Lambda::Function", "Arn"): self._arn("lambda", f"function:{name}"),
            ("AWS::Logs::LogGroup", "Arn"): self._arn("logs", f"log-group:{name}:*"),
            ("AWS::StepFunctions::StateMachine", "Arn"): self._arn("states", f"stateMachine:{name}"),
            ("AWS::StepFunctions::StateMachine", "Name"): name,
            ("AWS::KMS::Key", "Arn"): self._arn("kms", f"key/{STACK_UUID}"),
        }
        if (kind, attribute) in known:
            return known[(kind, attribute)]
        if attribute.endswith("Arn"):
            return self._arn(kind.split("::")[1].lower(), f"{'r' * 16}/{'n' * 64}")
        return "a" * 128

    @staticmethod
    def _arn(service: str, resource: str) -> str:
        return f"arn:{PARTITION}:{service}:{REGION}:{ACCOUNT}:{resource}"
