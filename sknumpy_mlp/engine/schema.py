"""Exact checks of a model file's JSON metadata, before any of it is used.

A schema is a function ``check(value, where)`` that returns nothing when
``value`` has the exact type and range it describes and otherwise raises
:class:`SchemaError`, naming the field (``where``, for example
``history[3].loss``). The builders below compose them::

    record = fields({"epoch": integer(1), "loss": number()})
    check = listing(record, max_length=10**6)
    check(meta["history"], "history")

JSON's own types only: an integer field refuses ``true`` and ``1.5``, a
number field refuses strings and ``null`` unless wrapped in :func:`optional`.
(The standard library has no schema checker; ``jsonschema`` would be the
engine's first dependency beyond NumPy.)
"""

import math
import re


class SchemaError(ValueError):
    """A metadata field of the wrong type or out of range; the message names it."""


def _fail(where, expected, value):
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    raise SchemaError(f"{where} must be {expected}, got {shown}")


def integer(low=None, high=None):
    """An integer (not a boolean) in ``[low, high]``."""

    def check(value, where):
        if (
            type(value) is not int
            or (low is not None and value < low)
            or (high is not None and value > high)
        ):
            bounds = f" in [{low}, {high}]" if high is not None else ""
            bounds = bounds or (f" >= {low}" if low is not None else "")
            _fail(where, f"an integer{bounds}", value)

    return check


def number(low=None, high=None, *, low_open=False, high_open=False):
    """A finite number (an integer or a float, not a boolean) in ``[low, high]``;
    ``low_open`` and ``high_open`` leave out the bounds."""

    def check(value, where):
        if (
            type(value) not in (int, float)
            or not math.isfinite(value)
            or (low is not None and (value <= low if low_open else value < low))
            or (high is not None and (value >= high if high_open else value > high))
        ):
            bounds = ""
            if low is not None or high is not None:
                bounds = (
                    f" in {'(' if low_open else '['}{low}, {high}"
                    f"{')' if high_open else ']'}"
                )
            _fail(where, f"a finite number{bounds}", value)

    return check


def boolean():
    """``true`` or ``false``."""

    def check(value, where):
        if type(value) is not bool:
            _fail(where, "true or false", value)

    return check


def string(options=None, *, pattern=None, max_length=10_000):
    """A string: one of ``options``, or matching the regular expression
    ``pattern``, or any of at most ``max_length`` characters."""
    compiled = None if pattern is None else re.compile(pattern)

    def check(value, where):
        if type(value) is not str or len(value) > max_length:
            _fail(where, f"a string of at most {max_length} characters", value)
        if options is not None and value not in options:
            _fail(where, f"one of {sorted(options)}", value)
        if compiled is not None and not compiled.fullmatch(value):
            _fail(where, f"a string matching {pattern!r}", value)

    return check


def optional(schema):
    """``null`` or what ``schema`` accepts."""

    def check(value, where):
        if value is not None:
            schema(value, where)

    return check


def listing(schema, *, max_length, min_length=0):
    """A list of ``min_length`` to ``max_length`` items, each accepted by
    ``schema``."""

    def check(value, where):
        if type(value) is not list or not min_length <= len(value) <= max_length:
            _fail(where, f"a list of {min_length} to {max_length} items", value)
        for i, item in enumerate(value):
            schema(item, f"{where}[{i}]")

    return check


def fields(required, optional_fields=None):
    """An object with exactly the keys of ``required`` (and any of
    ``optional_fields``), each value accepted by its schema."""
    optional_fields = optional_fields or {}
    allowed = {**required, **optional_fields}

    def check(value, where):
        if type(value) is not dict:
            _fail(where, "an object", value)
        missing = sorted(set(required) - set(value))
        if missing:
            raise SchemaError(f"{where} has no {missing[0]!r} entry")
        unknown = sorted(set(value) - set(allowed))
        if unknown:
            shown = unknown[0] if len(unknown[0]) <= 60 else unknown[0][:57] + "..."
            raise SchemaError(f"{where} has an unknown entry {shown!r}")
        for key, schema in allowed.items():
            if key in value:
                schema(value[key], f"{where}.{key}")

    return check


def mapping(key, schema, *, max_length):
    """An object of at most ``max_length`` entries, whose keys ``key`` and
    whose values ``schema`` accepts."""

    def check(value, where):
        if type(value) is not dict or len(value) > max_length:
            _fail(where, f"an object of at most {max_length} entries", value)
        for name, item in value.items():
            key(name, f"{where} key")
            schema(item, f"{where}.{name}")

    return check


def any_json():
    """Any JSON value (its meaning is checked elsewhere)."""

    def check(value, where):
        pass

    return check
