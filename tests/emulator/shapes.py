"""Check request parameters against botocore's Personalize model the way the service does.

botocore's client validates only types, required members and minimum lengths; the service also
enforces maximum lengths, patterns and enums. This module checks all of them from the model, so
a request the emulator accepts is one the service's front end would accept too. Patterns follow
Smithy's rule (not implicitly anchored: a match anywhere counts) and use the ``regex`` package,
which understands the ``\\p{L}``-style classes the model uses.
"""

from __future__ import annotations

import functools
from typing import Any

import botocore.session
import regex
from botocore.model import ListShape, ServiceModel, Shape, StructureShape


@functools.cache
def service_model() -> ServiceModel:
    return botocore.session.get_session().get_service_model("personalize")


@functools.cache
def _pattern(text: str) -> regex.Pattern[str]:
    return regex.compile(text)


def _show(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def validation_errors(operation: str, params: Any) -> list[str]:
    """Every constraint the parameters break, in AWS's "Value ... at ... failed to satisfy" wording."""
    shape = service_model().operation_model(operation).input_shape
    errors: list[str] = []
    if shape is not None:
        _check(shape, params, "", errors)
    return errors


def _check(shape: Shape, value: Any, path: str, errors: list[str]) -> None:
    where = path or "request"
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            errors.append(f"Value at '{where}' failed to satisfy constraint: Member must be an object")
            return
        assert isinstance(shape, StructureShape)
        for name in shape.required_members:
            if value.get(name) is None:
                errors.append(
                    f"Value null at '{_join(path, name)}' failed to satisfy constraint: Member must not be null"
                )
        for name, member_value in value.items():
            member = shape.members.get(name)
            if member is not None and member_value is not None:
                _check(member, member_value, _join(path, name), errors)
        return
    if kind == "list":
        if not isinstance(value, list):
            errors.append(f"Value at '{where}' failed to satisfy constraint: Member must be a list")
            return
        assert isinstance(shape, ListShape)
        _check_length(shape, value, len(value), where, errors)
        for index, item in enumerate(value, start=1):
            _check(shape.member, item, f"{where}.{index}.member", errors)
        return
    if kind == "string":
        if not isinstance(value, str):
            errors.append(f"Value '{_show(value)}' at '{where}' failed to satisfy constraint: Member must be a string")
            return
        _check_length(shape, value, len(value), where, errors)
        enum = shape.metadata.get("enum")
        if enum and value not in enum:
            errors.append(
                f"Value '{_show(value)}' at '{where}' failed to satisfy constraint: "
                f"Member must satisfy enum value set: [{', '.join(enum)}]"
            )
        pattern = shape.metadata.get("pattern")
        if pattern and not _pattern(pattern).search(value):
            errors.append(
                f"Value '{_show(value)}' at '{where}' failed to satisfy constraint: "
                f"Member must satisfy regular expression pattern: {pattern}"
            )
        return
    if kind == "boolean" and not isinstance(value, bool):
        errors.append(f"Value '{_show(value)}' at '{where}' failed to satisfy constraint: Member must be a boolean")
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            errors.append(
                f"Value '{_show(value)}' at '{where}' failed to satisfy constraint: Member must be an integer"
            )
            return
        minimum, maximum = shape.metadata.get("min"), shape.metadata.get("max")
        if minimum is not None and value < minimum:
            errors.append(
                f"Value '{value}' at '{where}' failed to satisfy constraint: "
                f"Member must have value greater than or equal to {minimum}"
            )
        if maximum is not None and value > maximum:
            errors.append(
                f"Value '{value}' at '{where}' failed to satisfy constraint: "
                f"Member must have value less than or equal to {maximum}"
            )


def _check_length(shape: Shape, value: Any, length: int, where: str, errors: list[str]) -> None:
    minimum, maximum = shape.metadata.get("min"), shape.metadata.get("max")
    if minimum is not None and length < minimum:
        errors.append(
            f"Value '{_show(value)}' at '{where}' failed to satisfy constraint: "
            f"Member must have length greater than or equal to {minimum}"
        )
    if maximum is not None and length > maximum:
        errors.append(
            f"Value '{_show(value)}' at '{where}' failed to satisfy constraint: "
            f"Member must have length less than or equal to {maximum}"
        )


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def validation_message(errors: list[str]) -> str:
    count = len(errors)
    return f"{count} validation error{'s' if count != 1 else ''} detected: " + "; ".join(errors)
