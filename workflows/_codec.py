"""Result values (frozen dataclasses of strings, numbers, datetimes, tuples) to JSON and back, exactly.

A notice stores the result it tells about in the outbox; the worker that renders it later, perhaps in
another process after a restart, gets the very value the step returned.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from datetime import datetime
from typing import Any, TypeVar

T = TypeVar("T")


def encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: encode(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (tuple, list)):
        return [encode(item) for item in value]
    if isinstance(value, dict):
        return {str(key): encode(item) for key, item in value.items()}
    return value


def decode(kind: type[T], data: Any) -> T:
    decoded: T = _decode(kind, data)
    return decoded


def _decode(hint: Any, data: Any) -> Any:
    if data is None:
        return None
    if hint is datetime:
        return datetime.fromisoformat(data)
    if dataclasses.is_dataclass(hint):
        build: Any = hint
        return build(**{name: _decode(field, data[name]) for name, field in _fields(hint) if name in data})
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], item) for item in data)
        return tuple(_decode(arg, item) for arg, item in zip(args, data, strict=True))
    if origin is dict:
        return {key: _decode(args[1], item) for key, item in data.items()}
    if origin in (typing.Union, types.UnionType):
        return _decode(next(arg for arg in args if arg is not type(None)), data)
    return data  # str, int, bool, a Literal


@functools.cache
def _fields(kind: type) -> tuple[tuple[str, Any], ...]:
    """A dataclass's constructor fields and their resolved hints, once per class: resolving the hints
    is most of the work, and a notice about 20,000 people decodes that many records of one class."""
    hints = typing.get_type_hints(kind)
    return tuple((field.name, hints[field.name]) for field in dataclasses.fields(kind) if field.init)
