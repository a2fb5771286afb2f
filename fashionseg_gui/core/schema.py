"""The schema of ``project.json`` (version 1) and a parser that never raises oddly.

:func:`parse_project_text` turns the file's text into a dict that validates against
:data:`PROJECT_SCHEMA`, or raises :class:`SchemaError` with a one-line reason. It refuses
deep nesting before the JSON parser recurses, and replaces the non-standard constants
``NaN``/``Infinity`` (which Python's ``json`` accepts but no save can write back) with
``null``, reporting how many it repaired.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from typing import Any

MAX_DEPTH = 64  # project.json nests about 6 deep; shapes and settings a little more

_ID = {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"}
_COUNT_MAX = 1_000_000
_COUNT = {"type": "integer", "minimum": 0, "maximum": _COUNT_MAX}

PROJECT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["schema_version", "classes"],
    "properties": {
        "schema_version": {"type": "integer", "minimum": 1, "maximum": 1},
        "app": {"type": "string"},
        "classes": {
            "type": "array",
            "minItems": 1,
            "maxItems": 255,
            "items": {
                "type": "object",
                "required": ["id", "name", "color"],
                "properties": {
                    "id": {"type": "integer", "minimum": 0, "maximum": 254},
                    "name": {"type": "string", "minLength": 1, "maxLength": 200},
                    "color": {"type": "string"},
                    "shortcut": {"type": "string", "maxLength": 8},
                },
            },
        },
        "images": {"type": "array"},  # each entry: IMAGE_SCHEMA
        "settings": {"type": "object"},
        "transaction": {"type": ["object", "null"]},
    },
}

# One entry of ``images``. A project may hold tens of thousands, so entries are checked by
# :func:`_image_ok` (the same rules, ~100x faster); the schema words the error of a bad one.
IMAGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "file", "width", "height"],
    "properties": {
        "id": _ID,
        "file": {"type": "string", "minLength": 1, "maxLength": 255},
        "width": _COUNT,
        "height": _COUNT,
        "status": {"type": "string"},
        "split": {"type": ["string", "null"]},
        "source": {"type": "string"},
        "sha256": {"type": "string"},
        "original_name": {"type": "string"},
        "style": {"type": ["string", "null"]},
        "warnings": {"type": "array", "items": {"type": "string"}},
        "provenance": {"type": ["object", "null"]},  # core.provenance (optional)
    },
}
_ID_RE = re.compile(_ID["pattern"].rstrip("$") + r"\Z")
_OPTIONAL_STR = ("status", "source", "sha256", "original_name")
_OPTIONAL_STR_OR_NONE = ("split", "style")


def _is_count(v: Any) -> bool:
    """JSON Schema's ``integer``: an int, or a float with no fraction (``480.0``)."""
    if type(v) is float:
        return v.is_integer() and 0 <= v <= _COUNT_MAX
    return type(v) is int and 0 <= v <= _COUNT_MAX


def _image_ok(d: Any) -> bool:
    """The rules of :data:`IMAGE_SCHEMA`, checked directly."""
    if type(d) is not dict:
        return False
    iid, file = d.get("id"), d.get("file")
    if type(iid) is not str or not _ID_RE.match(iid):
        return False
    if type(file) is not str or not 1 <= len(file) <= 255:
        return False
    if not (_is_count(d.get("width")) and _is_count(d.get("height"))):
        return False
    for k in _OPTIONAL_STR:
        if k in d and type(d[k]) is not str:
            return False
    for k in _OPTIONAL_STR_OR_NONE:
        if k in d and d[k] is not None and type(d[k]) is not str:
            return False
    if d.get("provenance") is not None and type(d["provenance"]) is not dict:
        return False
    warnings = d.get("warnings", [])
    return type(warnings) is list and all(type(w) is str for w in warnings)


# Version 0 (pre-release) files: only the outer shape is checked; ``migrate`` reads them.
LEGACY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "schema_version": {"type": "integer", "minimum": 0, "maximum": 0},
        "classes": {"type": "array", "items": {"type": ["string", "object"]}},
        "images": {"type": "array", "items": {"type": ["string", "object"]}},
        "settings": {"type": "object"},
    },
}


class SchemaError(ValueError):
    """``project.json`` is not a valid project document."""


def _nesting_depth(value: Any) -> int:
    """The deepest list/object nesting of a parsed JSON value, without recursion."""
    if not isinstance(value, (dict, list)):
        return 0
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > deepest:
            deepest = depth
        children = node.values() if isinstance(node, dict) else node
        stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))
    return deepest


def loads_finite(text: str, max_depth: int | None = MAX_DEPTH) -> tuple[Any, int]:
    """Parse JSON, replacing NaN/Infinity by None; return (value, number replaced).

    A document nested deeper than ``max_depth`` is refused (the parser itself stops at the
    interpreter's recursion limit; the schema checks that follow must never recurse deeper).
    """
    repaired = 0

    def constant(_name: str) -> None:
        nonlocal repaired
        repaired += 1
        return None

    def number(s: str) -> float | None:  # 1e400 parses as inf
        nonlocal repaired
        value = float(s)
        if value != value or value in (float("inf"), float("-inf")):
            repaired += 1
            return None
        return value

    try:
        value = json.loads(text, parse_constant=constant, parse_float=number)
    except (ValueError, RecursionError) as exc:
        raise SchemaError(str(exc) if isinstance(exc, ValueError) else "nested too deeply") from exc
    if max_depth is not None:
        _check_depth(_nesting_depth(value), max_depth)
    return value, repaired


@functools.cache
def _validator(which: str) -> Callable[[Any], Any]:
    """The compiled validator of a schema: fastjsonschema turns it into Python code once
    per process (importing it and compiling all three takes ~15 ms; jsonschema's import
    alone took 70-120 ms of the app's start)."""
    import fastjsonschema

    schema = {"project": PROJECT_SCHEMA, "image": IMAGE_SCHEMA, "legacy": LEGACY_SCHEMA}[which]
    return fastjsonschema.compile(schema)


def _check(which: str, data: Any, prefix: tuple[Any, ...] = ()) -> None:
    from fastjsonschema import JsonSchemaValueException

    try:
        _validator(which)(data)
    except JsonSchemaValueException as exc:
        where = "/".join(str(p) for p in (*prefix, *(exc.path or [])[1:])) or "the document"
        name = exc.name or ""
        message = exc.message[len(name) :].strip() if exc.message.startswith(name) else exc.message
        message = message if len(message) < 200 else message[:200] + "..."
        raise SchemaError(f"{where}: {message}") from None


def validate_project(data: Any, max_depth: int = MAX_DEPTH) -> None:
    """Raise :class:`SchemaError` unless ``data`` is a valid project document nested at most
    ``max_depth`` deep.

    The depth is checked after the schema (which never descends into free-form values), on
    the parts that can nest: everything but the image entries, and each entry's provenance
    (a valid entry is otherwise flat). Walking 5,000 flat entries took longer than the parse.
    """
    if not isinstance(data, dict):
        raise SchemaError("not a JSON object")
    version = data.get("schema_version", 0)
    if version == 0:
        _check("legacy", data)
        _check_depth(_nesting_depth(data), max_depth)
        return
    _check("project", data)
    images = data.get("images", [])
    deepest = 1 + max((_nesting_depth(v) for k, v in data.items() if k != "images"), default=0)
    for i, d in enumerate(images):
        if not _image_ok(d):
            _check("image", d, ("images", i))
            raise SchemaError(f"images/{i}: not a valid image entry")
        provenance = d.get("provenance")
        if provenance:  # document > images > entry > provenance...
            deepest = max(deepest, 3 + _nesting_depth(provenance))
    _check_depth(max(deepest, 4 if images else 2), max_depth)


def _check_depth(depth: int, max_depth: int) -> None:
    if depth > max_depth:
        raise SchemaError(f"nested more than {max_depth} levels deep")


def parse_project_text(text: str) -> tuple[dict[str, Any], int]:
    """Parse and validate ``project.json`` text; return (document, NaN values repaired)."""
    data, repaired = loads_finite(text, max_depth=None)
    validate_project(data)  # checks the depth too
    return data, repaired
