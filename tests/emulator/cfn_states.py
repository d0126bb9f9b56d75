"""AWS::Lambda::Function and AWS::StepFunctions::StateMachine, registered with the region's Step Functions.

Physical names and attributes are those the generic resources had (``cfn_resources.py``): a
function's Ref is its name and ``Arn`` its ARN, a state machine's Ref is its ARN. What is new is
that they exist in the emulated region afterwards: a function is a ``Handler`` string whose Python
code the stack binds (``EmulatedStack.bind_functions``), a state machine's resolved definition
(DefinitionString, or Definition, with DefinitionSubstitutions applied) is checked as
CreateStateMachine checks it (an invalid one fails the resource with Step Functions' message) and
runs when something starts an execution (``step_functions.py``). Updating a state machine changes
the definition of new executions; deleting it aborts its running executions at their next state
transition.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from tests.emulator.cfn_types import Deployed, ResourceFailure, Site
from tests.emulator.step_functions import DEFAULT_LAMBDA_TIMEOUT

FUNCTION = "AWS::Lambda::Function"
STATE_MACHINE = "AWS::StepFunctions::StateMachine"


# -- Lambda -------------------------------------------------------------------------------------------------
def create_function(site: Site, logical_id: str, props: dict[str, Any]) -> Deployed:
    world = site.world
    name = str(props.get("FunctionName") or site.physical_name(logical_id, 64))
    arn = f"arn:aws:lambda:{world.region}:{world.account}:function:{name}"
    world.lambdas.create(arn, str(props.get("Handler", "")), site.function_code, timeout=_timeout(props))
    return Deployed(FUNCTION, name, {"Arn": arn, "Name": name}, props, generic=True)


def update_function(site: Site, logical_id: str, old: Deployed, props: dict[str, Any]) -> Deployed:
    site.world.lambdas.update(old.attributes["Arn"], str(props.get("Handler", "")), timeout=_timeout(props))
    return Deployed(old.resource_type, old.physical_id, old.attributes, props, generic=True)


def delete_function(site: Site, old: Deployed) -> None:
    site.world.lambdas.delete(old.attributes["Arn"])


def _timeout(props: dict[str, Any]) -> float:
    return float(props.get("Timeout", DEFAULT_LAMBDA_TIMEOUT))


# -- Step Functions -----------------------------------------------------------------------------------------
def create_state_machine(site: Site, logical_id: str, props: dict[str, Any]) -> Deployed:
    world = site.world
    name = str(props.get("StateMachineName") or site.physical_name(logical_id, 80))
    arn = f"arn:aws:states:{world.region}:{world.account}:stateMachine:{name}"
    try:
        world.states.create_state_machine(arn, definition(props), str(props.get("StateMachineType", "STANDARD")))
    except ClientError as error:
        raise ResourceFailure(str(error.response.get("Error", {}).get("Message"))) from error
    return Deployed(STATE_MACHINE, arn, {"Arn": arn, "Name": name}, props, generic=True)


def update_state_machine(site: Site, logical_id: str, old: Deployed, props: dict[str, Any]) -> Deployed:
    try:
        site.world.states.update_state_machine(old.physical_id, definition(props))
    except ClientError as error:
        raise ResourceFailure(str(error.response.get("Error", {}).get("Message"))) from error
    return Deployed(old.resource_type, old.physical_id, old.attributes, props, generic=True)


def delete_state_machine(site: Site, old: Deployed) -> None:
    site.world.states.delete_state_machine(old.physical_id)


def definition(props: dict[str, Any]) -> str:
    """The definition as Step Functions gets it: DefinitionString or Definition, substitutions applied."""
    if "DefinitionString" in props:
        text = str(props["DefinitionString"])
    elif "Definition" in props:
        text = json.dumps(props["Definition"])
    else:
        raise NotImplementedError("a state machine defined by DefinitionS3Location is not emulated")
    for key, value in (props.get("DefinitionSubstitutions") or {}).items():
        text = text.replace("${" + key + "}", str(value))
    return text
