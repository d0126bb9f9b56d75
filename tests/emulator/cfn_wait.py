"""AWS::CloudFormation::WaitConditionHandle and AWS::CloudFormation::WaitCondition, as CloudFormation runs them.

- A handle's Ref (and its Id attribute) is a new presigned URL (``wait_signals.WaitHandles.issue``).
- A WaitCondition (Handle, Timeout, Count: 1 by default) starts when its dependencies are complete and
  then looks at every signal its handle's URL ever received, also those sent before it started (the
  documented pitfall of reusing a handle: "the wait condition might evaluate old signals"). Signals
  with a UniqueId already seen are retransmissions and ignored. In arrival order: a FAILURE signal
  fails it (``WaitCondition received failed message: '<Reason>' for uniqueId: <UniqueId>``); the
  Count-th SUCCESS completes it; Timeout seconds after it started it fails
  (``WaitCondition timed out. Received <n> conditions when expecting <Count>``). Timeout is a string
  of whole seconds, at most 43200 (12 hours). ``Fn::GetAtt <condition>.Data`` is the JSON object
  {UniqueId: Data} of the SUCCESS signals.
- Neither can be updated ("Updates aren't supported"): the same logical id with the same properties
  is no change (not waited on again); a WaitCondition whose properties changed fails the update.
  A re-run of the wait needs new logical ids for both; the old ones go in the update's cleanup.
  (The failure's wording is the emulator's; CloudFormation's is not documented.)
- The CreationPolicy form (a WaitCondition without Handle) is not emulated.
"""

from __future__ import annotations

import json
from typing import Any

from tests.emulator.cfn_types import Deployed, Pending, ResourceFailure, Site

HANDLE = "AWS::CloudFormation::WaitConditionHandle"
WAIT_CONDITION = "AWS::CloudFormation::WaitCondition"
MAX_TIMEOUT_SECONDS = 43200


def create_handle(site: Site, logical_id: str, props: dict[str, Any]) -> Deployed:
    url = site.world.wait_handles.issue(site.stack_id, logical_id)
    return Deployed(HANDLE, url, {"Id": url}, props)


def update_handle(site: Site, logical_id: str, old: Deployed, props: dict[str, Any]) -> Deployed:
    # A handle has no properties: only a change of its Metadata or the like gets here, and changes nothing.
    return Deployed(old.resource_type, old.physical_id, old.attributes, props)


def delete_handle(site: Site, old: Deployed) -> None:
    site.world.wait_handles.release(old.physical_id)


def create_wait_condition(site: Site, logical_id: str, props: dict[str, Any]) -> Deployed:
    if "Handle" not in props:
        raise NotImplementedError(f"{logical_id}: a WaitCondition with a CreationPolicy (no Handle) is not emulated")
    handles, url = site.world.wait_handles, str(props["Handle"])
    if url not in handles:
        raise ResourceFailure(f"{logical_id}: Handle {url!r} is not the Ref of a WaitConditionHandle")
    timeout, count = _timeout(props.get("Timeout")), _count(props.get("Count", 1))
    deadline = site.world.clock() + timeout
    deployed = Deployed(WAIT_CONDITION, site.physical_name(logical_id, 255), {"Data": "{}"}, props)

    def check() -> bool:
        seen: set[str] = set()
        successes: dict[str, str] = {}
        for signal in handles.received(url):
            if signal.unique_id in seen:
                continue  # a retransmission
            seen.add(signal.unique_id)
            if signal.status == "FAILURE":
                raise ResourceFailure(
                    f"WaitCondition received failed message: '{signal.reason}' for uniqueId: {signal.unique_id}"
                )
            successes[signal.unique_id] = signal.data
            if len(successes) >= count:
                deployed.attributes["Data"] = json.dumps(successes)
                return True
        if site.world.clock() >= deadline:
            raise ResourceFailure(
                f"WaitCondition timed out. Received {len(successes)} conditions when expecting {count}"
            )
        return False

    deployed.pending = Pending(check, deadline)
    return deployed


def update_wait_condition(site: Site, logical_id: str, old: Deployed, props: dict[str, Any]) -> Deployed:
    changed = sorted(key for key in {*props, *old.properties} if props.get(key) != old.properties.get(key))
    raise ResourceFailure(
        f"{logical_id}: an AWS::CloudFormation::WaitCondition cannot be updated (changed: {', '.join(changed)}). "
        "Give the wait condition and its handle new logical ids to wait again."
    )


def delete_wait_condition(site: Site, old: Deployed) -> None:
    pass


def _timeout(value: Any) -> float:
    try:
        seconds = int(str(value))
    except ValueError:
        raise ResourceFailure(f"Timeout {value!r} is not a number of seconds") from None
    if not 1 <= seconds <= MAX_TIMEOUT_SECONDS:
        raise ResourceFailure(f"Timeout {seconds} is out of range: 1 to {MAX_TIMEOUT_SECONDS} seconds (12 hours)")
    return float(seconds)


def _count(value: Any) -> int:
    try:
        count = int(str(value))
    except ValueError:
        raise ResourceFailure(f"Count {value!r} is not a number") from None
    if count < 1:
        raise ResourceFailure(f"Count {count} must be at least 1")
    return count
