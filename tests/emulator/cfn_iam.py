"""IAM resources of a template, registered into the access model (roles, inline and managed policies).

A role's ARN is ``arn:aws:iam::<account>:role<Path><name>``; AWS::IAM::Policy and
AWS::IAM::ManagedPolicy name their roles by NAME in ``Roles`` (a Ref of a role is its name), and
role names are unique in the account. Users and Groups are ignored: an import uses only its role.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from tests.emulator.cfn_types import Deployed, ResourceFailure, Site


def _role_policies(site: Site, role_arn: str, props: Mapping[str, Any], old: Mapping[str, Any]) -> None:
    access = site.world.access
    inline = {policy["PolicyName"]: policy["PolicyDocument"] for policy in props.get("Policies") or []}
    for stale in {policy["PolicyName"] for policy in old.get("Policies") or []} - set(inline):
        access.delete_role_policy(role_arn, stale)
    for name, document in inline.items():
        access.put_role_policy(role_arn, name, document)
    managed = set(props.get("ManagedPolicyArns") or [])
    for stale in set(old.get("ManagedPolicyArns") or []) - managed:
        access.detach_role_policy(role_arn, stale)
    for policy_arn in sorted(managed):
        access.attach_role_policy(role_arn, policy_arn)


def create_role(site: Site, logical_id: str, props: dict[str, Any]) -> Deployed:
    name = props.get("RoleName") or site.physical_name(logical_id, 64)
    arn = f"arn:aws:iam::{site.world.account}:role{props.get('Path', '/')}{name}"
    try:
        site.world.access.register_role(arn)
    except ValueError as error:
        raise ResourceFailure(str(error)) from error
    _role_policies(site, arn, props, {})
    role_id = "AROA" + uuid.uuid4().hex[:17].upper()
    return Deployed("AWS::IAM::Role", name, {"Arn": arn, "RoleId": role_id}, props)


def update_role(site: Site, logical_id: str, old: Deployed, props: dict[str, Any]) -> Deployed:
    if props.get("RoleName", old.physical_id) != old.physical_id:
        raise NotImplementedError(f"{logical_id}: renaming a role (a replacement) is not emulated")
    _role_policies(site, old.attributes["Arn"], props, old.properties)
    return Deployed(old.resource_type, old.physical_id, old.attributes, props)


def delete_role(site: Site, old: Deployed) -> None:
    site.world.access.delete_role(old.attributes["Arn"])


def put_policy(site: Site, logical_id: str, props: dict[str, Any]) -> Deployed:
    # Roles lists role NAMES (Ref of a role); Users and Groups grant nothing an import uses.
    for role in props.get("Roles") or []:
        site.world.access.put_role_policy(role, props["PolicyName"], props["PolicyDocument"])
    return Deployed("AWS::IAM::Policy", site.physical_name(logical_id, 128), {"Id": logical_id}, props)


def update_policy(site: Site, logical_id: str, old: Deployed, props: dict[str, Any]) -> Deployed:
    delete_policy(site, old)
    return Deployed(old.resource_type, old.physical_id, old.attributes, put_policy(site, logical_id, props).properties)


def delete_policy(site: Site, old: Deployed) -> None:
    for role in old.properties.get("Roles") or []:
        site.world.access.delete_role_policy(role, old.properties["PolicyName"])


def create_managed_policy(site: Site, logical_id: str, props: dict[str, Any]) -> Deployed:
    name = props.get("ManagedPolicyName") or site.physical_name(logical_id, 128)
    arn = f"arn:aws:iam::{site.world.account}:policy{props.get('Path', '/')}{name}"
    site.world.access.put_managed_policy(arn, props["PolicyDocument"])
    for role in props.get("Roles") or []:
        site.world.access.attach_role_policy(role, arn)
    return Deployed("AWS::IAM::ManagedPolicy", arn, {"PolicyArn": arn}, props)


def update_managed_policy(site: Site, logical_id: str, old: Deployed, props: dict[str, Any]) -> Deployed:
    access = site.world.access
    access.put_managed_policy(old.physical_id, props["PolicyDocument"])
    for role in set(old.properties.get("Roles") or []) - set(props.get("Roles") or []):
        access.detach_role_policy(role, old.physical_id)
    for role in props.get("Roles") or []:
        access.attach_role_policy(role, old.physical_id)
    return Deployed(old.resource_type, old.physical_id, old.attributes, props)


def delete_managed_policy(site: Site, old: Deployed) -> None:
    site.world.access.delete_managed_policy(old.physical_id)
