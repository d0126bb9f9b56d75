"""CloudFormation's intrinsic functions, and the references that order a deployment.

``resolve`` replaces Ref, Fn::GetAtt, Fn::Join, Fn::Sub (both forms), Fn::Select, Fn::Split,
Fn::ImportValue and Fn::If (with the template's Conditions: Fn::Equals, Fn::Not, Fn::And, Fn::Or,
Condition; ``Ref AWS::NoValue`` drops the property) with values from a ``Scope`` (the stack being
deployed). ``references`` finds
the names a value refers to (Ref, Fn::GetAtt, and the ``${...}`` of Fn::Sub): CloudFormation creates a
resource only after every resource it refers to, so these (with DependsOn) are the dependency graph.
Any other ``Fn::`` raises NotImplementedError: a template using one needs this module taught first.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Protocol

_SUB = re.compile(r"\$\{([^}]*)\}")


class Unresolvable(Exception):
    """A value CloudFormation could not produce (missing export, resource not created, no such attribute)."""


class _NoValue:
    def __repr__(self) -> str:
        return "AWS::NoValue"


# What ``Ref AWS::NoValue`` resolves to: the property (or list item) holding it is left out.
NO_VALUE: Any = _NoValue()


class Scope(Protocol):
    def ref(self, name: str) -> Any: ...

    def condition(self, name: str) -> bool: ...

    def get_att(self, logical_id: str, attribute: str) -> Any: ...

    def import_value(self, name: str) -> Any: ...


def resolve(value: Any, scope: Scope) -> Any:
    if isinstance(value, list):
        return [item for item in (resolve(item, scope) for item in value) if item is not NO_VALUE]
    if not isinstance(value, Mapping):
        return value
    if len(value) == 1:
        ((key, argument),) = value.items()
        if key == "Ref":
            return NO_VALUE if argument == "AWS::NoValue" else scope.ref(argument)
        if key.startswith("Fn::"):
            return _function(key, argument, scope)
    resolved = {k: resolve(v, scope) for k, v in value.items()}
    return {k: v for k, v in resolved.items() if v is not NO_VALUE}


def holds(condition: Any, scope: Scope) -> bool:
    """Evaluate a condition expression (a Conditions entry, or Fn::If's condition name)."""
    if isinstance(condition, str):
        return scope.condition(condition)
    ((key, argument),) = dict(condition).items()
    if key == "Condition":
        return scope.condition(argument)
    if key == "Fn::Equals":
        left, right = resolve(argument, scope)
        return _text(left) == _text(right)
    if key == "Fn::Not":
        return not holds(argument[0], scope)
    if key == "Fn::And":
        return all(holds(item, scope) for item in argument)
    if key == "Fn::Or":
        return any(holds(item, scope) for item in argument)
    raise NotImplementedError(f"condition function {key} is not emulated")


def _function(name: str, argument: Any, scope: Scope) -> Any:
    if name == "Fn::GetAtt":
        logical_id, attribute = _get_att(argument)
        return scope.get_att(logical_id, attribute)
    if name == "Fn::Join":
        delimiter, parts = argument
        return str(delimiter).join(_text(resolve(part, scope)) for part in resolve(parts, scope))
    if name == "Fn::Sub":
        return _sub(argument, scope)
    if name == "Fn::Select":
        index, items = resolve(argument, scope)
        items = list(items)
        if not 0 <= int(index) < len(items):
            raise Unresolvable(f"Fn::Select index {index} is out of range for {items!r}")
        return items[int(index)]
    if name == "Fn::Split":
        delimiter, source = argument
        return _text(resolve(source, scope)).split(str(delimiter))
    if name == "Fn::ImportValue":
        return scope.import_value(_text(resolve(argument, scope)))
    if name == "Fn::If":
        condition, when_true, when_false = argument
        return resolve(when_true if holds(condition, scope) else when_false, scope)
    raise NotImplementedError(f"{name} is not emulated (in {{{name!r}: {argument!r}}})")


def _get_att(argument: Any) -> tuple[str, str]:
    # [logical id, attribute] or "LogicalId.Attribute"; an attribute may itself contain dots.
    if isinstance(argument, str):
        logical_id, _, attribute = argument.partition(".")
        return logical_id, attribute
    return str(argument[0]), str(argument[1])


def _sub(argument: Any, scope: Scope) -> str:
    if isinstance(argument, list):
        template, variables = argument[0], {k: resolve(v, scope) for k, v in dict(argument[1]).items()}
    else:
        template, variables = argument, {}

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("!"):
            return "${" + name[1:] + "}"  # ${!Literal} writes ${Literal}
        if name in variables:
            return _text(variables[name])
        if "." in name:
            logical_id, _, attribute = name.partition(".")
            return _text(scope.get_att(logical_id, attribute))
        return _text(scope.ref(name))

    return _SUB.sub(replace, str(template))


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"  # CloudFormation passes booleans on as strings
    if isinstance(value, (dict, list)):
        raise Unresolvable(f"a string was expected, got {value!r}")
    return str(value)


def references(value: Any) -> set[str]:
    """Names referred to by Ref, Fn::GetAtt and Fn::Sub in ``value`` (resources, parameters, pseudo parameters)."""
    found: set[str] = set()
    _collect(value, found)
    return found


def _collect(value: Any, found: set[str]) -> None:
    if isinstance(value, list):
        for item in value:
            _collect(item, found)
        return
    if not isinstance(value, Mapping):
        return
    if len(value) == 1:
        ((key, argument),) = value.items()
        if key == "Ref" and isinstance(argument, str):
            found.add(argument)
            return
        if key == "Fn::GetAtt":
            found.add(_get_att(argument)[0])
            return
        if key == "Fn::Sub":
            template, variables = (argument[0], dict(argument[1])) if isinstance(argument, list) else (argument, {})
            for name in _SUB.findall(str(template)):
                if not name.startswith("!") and name not in variables:
                    found.add(name.partition(".")[0])
            _collect(list(variables.values()), found)
            return
    for item in value.values():
        _collect(item, found)
