"""project.json's schema: the fast image-entry check agrees with the schema, the depth
limit is exact, errors are one line with their place."""

from __future__ import annotations

import copy
import json

import fastjsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fashionseg_gui.core import schema as S

GOOD_IMAGE = {
    "id": "a1b2c3",
    "file": "a1b2c3.jpg",
    "width": 640,
    "height": 480,
    "status": "labelled",
    "split": "train",
    "source": "/photos/a.jpg",
    "sha256": "00" * 32,
    "original_name": "a.jpg",
    "style": None,
    "warnings": ["resized"],
    "provenance": {"run": "r1"},
}

_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-5, max_value=2_000_000),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(max_size=70),
    st.sampled_from(["a", "A-b_9", "../x", "a\n", "", "x" * 64, "x" * 65, "7" * 300]),
    st.lists(st.one_of(st.text(max_size=5), st.integers()), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@settings(max_examples=400, deadline=None)
@given(
    changes=st.dictionaries(st.sampled_from(sorted(GOOD_IMAGE) + ["extra"]), _values, max_size=3),
    drop=st.sets(st.sampled_from(sorted(GOOD_IMAGE)), max_size=2),
)
def test_fast_image_check_agrees_with_the_schema(changes: dict, drop: set) -> None:
    entry = {k: v for k, v in {**GOOD_IMAGE, **changes}.items() if k not in drop}
    validate = fastjsonschema.compile(S.IMAGE_SCHEMA)
    try:
        validate(entry)
        by_schema = True
    except fastjsonschema.JsonSchemaValueException:
        by_schema = False
    assert S._image_ok(entry) is by_schema, entry


def _doc(**settings_value: object) -> dict:
    return {
        "schema_version": 1,
        "classes": [{"id": 0, "name": "background", "color": "#000000"}],
        "images": [dict(GOOD_IMAGE)],
        "settings": dict(settings_value),
    }


def _nested(levels: int) -> dict:
    value: dict = {}
    for _ in range(levels - 1):
        value = {"a": value}
    return value


@pytest.mark.parametrize("where", ["settings", "provenance"])
def test_depth_limit_is_exact_wherever_the_nesting_is(where: str) -> None:
    for extra in (0, 1):
        doc = _doc()
        # the value's own depth that makes the whole document exactly MAX_DEPTH (+ extra)
        outer = 1 if where == "settings" else 3
        value = _nested(S.MAX_DEPTH - outer + extra)
        if where == "settings":
            doc["settings"] = value
        else:
            doc["images"][0]["provenance"] = value
        assert S._nesting_depth(doc) == S.MAX_DEPTH + extra
        if extra:
            with pytest.raises(S.SchemaError, match="nested more than"):
                S.validate_project(doc)
            with pytest.raises(S.SchemaError, match="nested more than"):
                S.parse_project_text(json.dumps(doc))
        else:
            S.validate_project(doc)


def test_errors_name_their_place() -> None:
    doc = _doc()
    doc["images"].append(copy.deepcopy(GOOD_IMAGE) | {"id": "../up"})
    with pytest.raises(S.SchemaError, match=r"^images/1/id: must match pattern"):
        S.validate_project(doc)
    doc = _doc()
    doc["classes"][0]["name"] = ""
    with pytest.raises(S.SchemaError, match=r"^classes/0/name: "):
        S.validate_project(doc)
    with pytest.raises(S.SchemaError, match=r"^the document: .*classes"):
        S.validate_project({"schema_version": 1})
    with pytest.raises(S.SchemaError, match="not a JSON object"):
        S.validate_project([1])


def test_nesting_depth_of_scalars_and_empties() -> None:
    assert S._nesting_depth(3) == 0
    assert S._nesting_depth("x") == 0
    assert S._nesting_depth({}) == 1
    assert S._nesting_depth([[], {"a": [1]}]) == 3
