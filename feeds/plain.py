"""Typed converters between our frozen dataclasses and plain data (what msgpack can hold).

The build cache stores plain data, never pickles: a cache restored from somewhere else (a CI
cache a pull request made) must not be able to run code, nor hand back a value of the wrong
type. `codec(hint)` makes a converter pair from a type hint, once per hint:

- `to_plain(value)`: nested tuples of str, int, bool, bytes and None (and dicts with str keys),
  raising TypeError for a value that is not exactly of its declared type (it is then not
  stored: what is stored always reads back);
- `from_plain(data)`: the value again, raising `ShapeError` for anything but the shape and
  types `to_plain` makes: a str where an int belongs, an array of the wrong length, an unknown
  Literal, a date that is not one. msgpack reads its arrays back as these tuples
  (`use_list=False`), so `from_plain(to_plain(value)) == value` holds through the file too.

A dataclass is the array of its fields in declaration order (no names: the cache's SCHEMA
changes with the layout); a datetime is [wall time in ISO 8601, fold, zone], the zone an IANA
key, an offset in microseconds, or None for a naive time; a Path is its str.
"""

from __future__ import annotations

import dataclasses
import functools
import operator
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo

T = TypeVar("T")
_NONE = type(None)


class ShapeError(ValueError):
    """Plain data that is not what its type says: a damaged or foreign cache row."""


@dataclasses.dataclass(frozen=True, slots=True)
class Codec(Generic[T]):
    """The two converters of one type (see the module's docstring)."""

    to_plain: Callable[[T], Any]
    from_plain: Callable[[Any], T]
    values: frozenset[type]  # the types a value may have, exactly (no subclasses)
    plains: frozenset[type]  # the types its plain form may have, exactly
    identity: bool = False  # the plain form is the value itself: nothing to convert


def codec(hint: type[T]) -> Codec[T]:
    """The converters for `hint`: a dataclass, a datetime, str, int, bool, bytes, a Path, a
    Literal of those, `X | None`, `tuple[X, ...]`, a fixed `tuple[X, Y]`, `dict[str, X]`.
    Any other hint is a TypeError here, when the codec is made, not when a value is stored."""
    made: Codec[T] = _codec(typing.cast("Any", hint))
    return made


@functools.cache
def _codec(hint: Any) -> Codec[Any]:
    named = _NAMED.get(hint) if isinstance(hint, type) else None
    if named is not None:
        return named
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return _dataclass(hint)
    return _generic(typing.get_origin(hint), typing.get_args(hint), hint)


def _generic(origin: Any, args: tuple[Any, ...], hint: Any) -> Codec[Any]:
    if origin is typing.Literal:
        return _literal(args)
    if origin in (types.UnionType, typing.Union) and len(args) == 2 and _NONE in args:
        return _optional(_codec(args[0] if args[1] is _NONE else args[1]))
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return _tuple_of(_codec(args[0]))
    if origin is tuple and args and Ellipsis not in args:
        return _fixed_tuple(tuple(_codec(arg) for arg in args))
    if origin in (dict, Mapping) and args and args[0] is str:
        return _dict_of(_codec(args[1]))
    raise TypeError(f"no plain form for {hint!r}")


class _Shapes:
    """The types each field of a row may have, checked once per signature: a row whose
    fields' types are a combination already seen passes with one set lookup, not one check a
    field. Only valid signatures are kept, so there are at most as many as combinations."""

    def __init__(self, allowed: Sequence[frozenset[type]], what: str) -> None:
        self.allowed, self.what = tuple(allowed), what
        self.seen: set[tuple[type, ...]] = set()

    def check(self, items: Sequence[Any], error: type[Exception]) -> None:
        shape = tuple(map(type, items))
        if shape in self.seen:
            return
        if len(shape) != len(self.allowed):
            raise error(f"{len(shape)} fields where {self.what} has {len(self.allowed)}")
        for number, (kind, allowed) in enumerate(zip(shape, self.allowed, strict=True)):
            if kind not in allowed:
                raise error(f"{kind.__name__} for field {number} of {self.what}")
        self.seen.add(shape)


def _exact(kind: type) -> Codec[Any]:
    """A value of exactly `kind` (no subclass: True is no int here), stored as it is."""

    def check(value: Any, error: type[Exception]) -> Any:
        if type(value) is not kind:
            raise error(f"{type(value).__name__} where {kind.__name__} belongs")
        return value

    return Codec(
        lambda value: check(value, TypeError),
        lambda value: check(value, ShapeError),
        frozenset({kind}),
        frozenset({kind}),
        identity=True,
    )


_EXACT: dict[type, Codec[Any]] = {kind: _exact(kind) for kind in (str, int, bool, bytes, _NONE)}


def _literal(allowed: tuple[Any, ...]) -> Codec[Any]:
    values = frozenset((type(value), value) for value in allowed)
    kinds = frozenset(type(value) for value in allowed)
    if not kinds <= {str, int, bool}:
        raise TypeError(f"no plain form for Literal{list(allowed)!r}")

    def check(value: Any, error: type[Exception]) -> Any:
        if (type(value), value) not in values:
            raise error(f"{value!r} is none of {allowed!r}")
        return value

    return Codec(
        lambda value: check(value, TypeError),
        lambda value: check(value, ShapeError),
        kinds,
        kinds,
    )


def _optional(inner: Codec[Any]) -> Codec[Any]:
    to_plain, from_plain = inner.to_plain, inner.from_plain
    return Codec(
        lambda value: None if value is None else to_plain(value),
        lambda value: None if value is None else from_plain(value),
        inner.values | {_NONE},
        inner.plains | {_NONE},
        identity=inner.identity,
    )


def _array(value: Any) -> tuple[Any, ...]:
    if type(value) is not tuple:
        raise ShapeError(f"{type(value).__name__} where an array belongs")
    return value


def _tuple_of(inner: Codec[Any]) -> Codec[Any]:
    to_plain, from_plain = inner.to_plain, inner.from_plain
    # tuple[str, ...]: the array read is the value once its items' types are checked.
    kind = next(iter(inner.values)) if inner.identity and len(inner.values) == 1 else None

    def check(items: tuple[Any, ...], error: type[Exception]) -> tuple[Any, ...]:
        for item in items:
            if type(item) is not kind:
                raise error(f"{type(item).__name__} where {kind and kind.__name__} belongs")
        return items

    def encode(value: Any) -> Any:
        if type(value) is not tuple:
            raise TypeError(f"{type(value).__name__} where a tuple belongs")
        if kind is None:
            return tuple([to_plain(item) for item in value])
        return check(value, TypeError)

    def decode(value: Any) -> Any:
        if type(value) is not tuple:
            raise ShapeError(f"{type(value).__name__} where an array belongs")
        if kind is None:
            return tuple([from_plain(item) for item in value])
        for item in value:
            if type(item) is not kind:
                raise ShapeError(f"{type(item).__name__} where {kind.__name__} belongs")
        return value

    return Codec(encode, decode, frozenset({tuple}), frozenset({tuple}))


def _fixed_tuple(parts: tuple[Codec[Any], ...]) -> Codec[Any]:
    return _row(tuple, parts, lambda value: value, "a tuple")


def _dataclass(cls: type) -> Codec[Any]:
    """A dataclass as the array of its fields, each converted by its own type hint."""
    hints = typing.get_type_hints(cls)
    names = tuple(field.name for field in dataclasses.fields(cls))
    parts = tuple(_codec(hints[name]) for name in names)
    getter = operator.attrgetter(*names)
    fields_of = getter if len(names) > 1 else lambda value: (getter(value),)
    return _row(cls, parts, fields_of, cls.__name__)


def _row(
    cls: type, parts: tuple[Codec[Any], ...], fields_of: Callable[[Any], Any], what: str
) -> Codec[Any]:
    """A value made of fixed fields (a dataclass, a fixed tuple) as the array of them.

    Decoding is what a no-change rebuild spends most of its reading time on (three rows for
    every post), hence the one set lookup for all the fields' types and no call for the
    fields whose plain form is their value."""
    encoders = tuple((n, part.to_plain) for n, part in enumerate(parts) if not part.identity)
    decoders = tuple((n, part.from_plain) for n, part in enumerate(parts) if not part.identity)
    values = _Shapes([part.values for part in parts], what)
    plains = _Shapes([part.plains for part in parts], what)
    seen, spread = plains.seen, cls is not tuple

    def encode(value: Any) -> Any:
        if type(value) is not cls:
            raise TypeError(f"{type(value).__name__} where {what} belongs")
        items = list(fields_of(value))
        values.check(items, TypeError)
        for n, to_plain in encoders:
            items[n] = to_plain(items[n])
        return tuple(items)

    def decode(value: Any) -> Any:
        if type(value) is not tuple:
            raise ShapeError(f"{type(value).__name__} where {what} belongs")
        if tuple(map(type, value)) not in seen:
            plains.check(value, ShapeError)
        if not decoders:
            return cls(*value) if spread else value
        items = list(value)
        for n, from_plain in decoders:
            items[n] = from_plain(items[n])
        return cls(*items) if spread else tuple(items)

    return Codec(encode, decode, frozenset({cls}), frozenset({tuple}))


def _dict_of(inner: Codec[Any]) -> Codec[Any]:
    to_plain, from_plain = inner.to_plain, inner.from_plain

    def encode(value: Any) -> Any:
        if type(value) not in (dict, types.MappingProxyType):
            raise TypeError(f"{type(value).__name__} where a mapping belongs")
        return {_key(key, TypeError): to_plain(item) for key, item in value.items()}

    def decode(value: Any) -> Any:
        if type(value) is not dict:
            raise ShapeError(f"{type(value).__name__} where a map belongs")
        return {_key(key, ShapeError): from_plain(item) for key, item in value.items()}

    return Codec(encode, decode, frozenset({dict, types.MappingProxyType}), frozenset({dict}))


def _key(key: Any, error: type[Exception]) -> str:
    if type(key) is not str:
        raise error(f"{type(key).__name__} where a str key belongs")
    return key


# --- datetimes and paths ---------------------------------------------------------------------


def _datetime_to_plain(value: datetime) -> Any:
    if type(value) is not datetime:
        raise TypeError(f"{type(value).__name__} where a datetime belongs")
    return (value.replace(tzinfo=None).isoformat(), value.fold, _zone_to_plain(value))


def _zone_to_plain(value: datetime) -> str | int | None:
    """An IANA key for a zone ZoneInfo names, microseconds for a plain offset, None for none;
    any other kind of zone (dateutil's, a named offset) has no plain form."""
    zone = value.tzinfo
    if zone is None:
        return None
    if type(zone) is ZoneInfo and zone.key and _zone(zone.key) is zone:
        return zone.key
    offset = value.utcoffset()
    if type(zone) is timezone and offset is not None and zone.tzname(None) == str(timezone(offset)):
        return offset // timedelta(microseconds=1)
    raise TypeError(f"no plain form for the time zone {zone!r}")


def _datetime_from_plain(value: Any) -> datetime:
    if type(value) is not tuple or len(value) != 3:
        raise ShapeError(f"{value!r} is no datetime")
    last = _last_moment
    if last[0] == value:  # a post's `updated` is mostly its `date`, read just before
        return last[1]
    wall, fold, zone = value
    if type(wall) is not str or type(fold) is not int or fold not in (0, 1):
        raise ShapeError(f"{value!r} is no datetime")
    try:
        moment = datetime.fromisoformat(wall)
    except ValueError as exc:
        raise ShapeError(f"{wall!r} is no date: {exc}") from None
    if moment.tzinfo is not None:
        raise ShapeError(f"{wall!r} carries an offset of its own")
    known = _ZONES.get(zone) if type(zone) is str else None
    moment = moment.replace(tzinfo=known or _zone_from_plain(zone), fold=fold)
    _remember((value, moment))
    return moment


def _remember(pair: tuple[tuple[Any, ...], datetime]) -> None:
    global _last_moment  # noqa: PLW0603 - one pair, replaced whole: safe across threads
    _last_moment = pair


_last_moment: tuple[tuple[Any, ...], datetime] = ((), datetime.min)


_ZONES: dict[str, ZoneInfo] = {}  # only zones that loaded: the tz database bounds it


def _zone(key: str) -> ZoneInfo:
    found = _ZONES.get(key)
    if found is None:
        found = _ZONES[key] = ZoneInfo(key)
    return found


def _zone_from_plain(zone: Any) -> timezone | ZoneInfo | None:
    if zone is None:
        return None
    try:
        if type(zone) is str:
            return _zone(zone)
        if type(zone) is int:
            return timezone(timedelta(microseconds=zone))
    except (ValueError, KeyError, OSError, OverflowError) as exc:  # no such zone, out of range
        raise ShapeError(f"{zone!r} is no time zone: {exc}") from None
    raise ShapeError(f"{type(zone).__name__} where a time zone belongs")


def _path_to_plain(value: Path) -> str:
    if type(value) is not _PATH:
        raise TypeError(f"{type(value).__name__} where a Path belongs")
    return str(value)


def _path_from_plain(value: Any) -> Path:
    if type(value) is not str:
        raise ShapeError(f"{type(value).__name__} where a path belongs")
    return Path(value)


_PATH = type(Path())  # PosixPath or WindowsPath: what Path() makes here
_NAMED: dict[type, Codec[Any]] = {
    **_EXACT,
    datetime: Codec(
        _datetime_to_plain, _datetime_from_plain, frozenset({datetime}), frozenset({tuple})
    ),
    Path: Codec(_path_to_plain, _path_from_plain, frozenset({_PATH}), frozenset({str})),
}
