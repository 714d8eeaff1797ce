"""Result values (frozen dataclasses of strings, numbers, datetimes, tuples) to JSON and back, exactly.

A notice stores the result it tells about in the outbox; the worker that renders it later, perhaps in
another process after a restart, gets the very value the step returned.

Both ways work out once per type what to do with its values (a type's hints, a dataclass's fields) and
keep it: a notice about 20,000 people holds that many records of one class, and working it out again
for each record was most of the time a large notice took to store and to render.

A field whose metadata says `stored: False` is left out, and comes back as its default: a value of the
moment the step ran (the time zone its actor spoke from), which no notice reads.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

T = TypeVar("T")

_Convert = Callable[[Any], Any]
_PLAIN: frozenset[type] = frozenset({str, int, float, bool, type(None)})
"""Values stored as they are, recognised before asking the cache: most of a large notice's values."""


def encode(value: Any) -> Any:
    kind: Any = type(value)  # typeshed does not call a class Hashable, which the cache asks for
    if kind in _PLAIN:
        return value
    return _encoder(kind)(value)


def decode(kind: type[T], data: Any) -> T:
    hint: Any = kind
    decoded: T = _decoder(hint)(data)
    return decoded


@functools.cache
def _encoder(kind: Any) -> _Convert:
    if dataclasses.is_dataclass(kind):  # the value is an instance (a dataclass itself, a `type`, is kept)
        names = tuple(field.name for field in dataclasses.fields(kind) if field.metadata.get("stored", True))
        return lambda value: {name: encode(getattr(value, name)) for name in names}
    if issubclass(kind, datetime):
        return datetime.isoformat
    if issubclass(kind, (tuple, list)):
        return lambda value: [encode(item) for item in value]
    if issubclass(kind, dict):
        return lambda value: {str(key): encode(item) for key, item in value.items()}
    return _unchanged


@functools.cache
def _decoder(hint: Any) -> _Convert:
    """How to turn JSON back into a value of `hint`; JSON's null is None whatever the hint."""
    convert = _converter(hint)
    if convert is _unchanged:
        return _unchanged  # null stays None as it is
    return lambda data: None if data is None else convert(data)


def _converter(hint: Any) -> _Convert:
    if hint is datetime:
        return datetime.fromisoformat
    if dataclasses.is_dataclass(hint):
        return _dataclass_converter(hint)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            item = _decoder(args[0])
            return lambda data: tuple(item(each) for each in data)
        items = tuple(_decoder(arg) for arg in args)
        return lambda data: tuple(item(each) for item, each in zip(items, data, strict=True))
    if origin is dict:
        value = _decoder(args[1])
        return lambda data: {key: value(item) for key, item in data.items()}
    if origin in (typing.Union, types.UnionType):
        return _decoder(next(arg for arg in args if arg is not type(None)))
    return _unchanged  # str, int, bool, a Literal


def _dataclass_converter(kind: Any) -> _Convert:
    fields: tuple[tuple[str, ...], tuple[tuple[str, _Convert], ...]] | None = None
    """The names of the fields taken as they are, and the other fields with their converters."""

    def convert(data: Any) -> Any:
        nonlocal fields
        if fields is None:  # at the first value, not before: a dataclass may hold values of its own kind
            hints = typing.get_type_hints(kind)
            decoders = [
                (field.name, _decoder(hints[field.name])) for field in dataclasses.fields(kind) if field.init
            ]
            fields = (
                tuple(name for name, decoder in decoders if decoder is _unchanged),
                tuple((name, decoder) for name, decoder in decoders if decoder is not _unchanged),
            )
        plain, converted = fields
        values = {name: data[name] for name in plain if name in data}
        values.update((name, field(data[name])) for name, field in converted if name in data)
        return kind(**values)

    return convert


def _unchanged(value: Any) -> Any:
    return value
