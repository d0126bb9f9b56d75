"""What the synth tells people: policies and values written out as far as the synth knows them.

A warning is read by someone who edits a bucket or key policy in another repository or the console:
nothing in it may be an unresolved token (``${Token[...]}``) or a CloudFormation reference.
"""

from __future__ import annotations

import re

from aws_cdk import Stack, Token
from aws_cdk.region_info import RegionInfo


def pseudo_parameters(stack: Stack) -> dict[str, str]:
    """What the synth knows of the pseudo parameters: a concrete environment's account, region and partition."""
    known = {}
    if not Token.is_unresolved(stack.region):
        known["AWS::Region"] = stack.region
    partition = stack.partition if not Token.is_unresolved(stack.partition) else None
    if partition is None and "AWS::Region" in known:
        partition = RegionInfo.get(stack.region).partition
    if partition:
        known["AWS::Partition"] = partition
    if not Token.is_unresolved(stack.account):
        known["AWS::AccountId"] = stack.account
    return known


def readable_policy(value: object, known: dict[str, str]) -> object:
    """A resolved policy for people to paste: pseudo parameters the synth knows written out, the rest named
    as ``<...>`` placeholders (a bucket of this app is never here: its policy is changed directly)."""
    if isinstance(value, list):
        return [readable_policy(item, known) for item in value]
    if not isinstance(value, dict):
        return value
    if "Ref" in value and len(value) == 1:
        name = str(value["Ref"])
        return known.get(name, f"<{name.removeprefix('AWS::').lower()}>")
    if "Fn::GetAtt" in value and len(value) == 1:
        return "<" + ".".join(map(str, value["Fn::GetAtt"])) + " after deploy>"
    if "Fn::Join" in value and len(value) == 1:
        delimiter, parts = value["Fn::Join"]
        return str(delimiter).join(str(readable_policy(part, known)) for part in parts)
    return {key: readable_policy(item, known) for key, item in value.items()}


def without_tokens(text: str) -> str:
    """``text`` with each unresolved token written as ``<deploy-time value>``."""
    return re.sub(r"\$\{Token\[[^\]]*\]\}", "<deploy-time value>", text)
