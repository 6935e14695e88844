import pytest
import torch
from hypothesis import given, strategies as st

from Qwen3.errors import StructuredOutputError
from Qwen3.structured import apply_bitmask, harden_schema, check_schema, parse_json_output


def test_caps_every_free_form_string():
    schema = {"type": "object", "properties": {
        "a": {"type": "string"},
        "b": {"type": "string", "maxLength": 5},
        "c": {"type": "array", "items": {"type": "string"}},
        "d": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "e": {"type": "string", "enum": ["x", "y"]},
        "f": {"type": "string", "pattern": "^[a-z]+$"},
        "g": {"$ref": "#/$defs/G"}},
        "$defs": {"G": {"type": ["string", "null"]}}}
    capped = harden_schema(schema, 100)
    props = capped["properties"]
    assert props["a"]["maxLength"] == 100
    assert props["b"]["maxLength"] == 5
    assert props["c"]["items"]["maxLength"] == 100
    assert props["d"]["anyOf"][0]["maxLength"] == 100
    assert "maxLength" not in props["e"] and "maxLength" not in props["f"]
    assert capped["$defs"]["G"]["maxLength"] == 100
    assert "maxLength" not in schema["properties"]["a"]  # the caller's schema is untouched


@pytest.mark.parametrize("schema, message", [
    ([1, 2], "JSON schema must be an object"),
    ({"type": "strng"}, "invalid JSON schema"),
    ({"properties": {"a": {"minLength": -1}}}, "invalid JSON schema"),
])
def test_check_schema_rejects_non_schemas(schema, message):
    with pytest.raises(StructuredOutputError, match=message):
        check_schema(schema)


SCHEMA = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}


@pytest.mark.parametrize("text, message", [
    ('{"n": 1', "not valid JSON"),
    ('{"n": "one"}', "at n: 'one' is not of type 'integer'"),
    ("{}", "at <root>: 'n' is a required property"),
])
def test_parse_json_output_explains_failures(text, message):
    with pytest.raises(StructuredOutputError, match=message):
        parse_json_output(text, SCHEMA)


def test_parse_json_output_accepts_valid():
    assert parse_json_output('{"n": 3}', SCHEMA) == {"n": 3}


@given(st.lists(st.booleans(), min_size=1, max_size=80))
def test_apply_bitmask_keeps_exactly_the_allowed_tokens(allowed):
    vocab = len(allowed)
    words = (vocab + 31) // 32
    mask = torch.zeros(1, words, dtype=torch.int64)
    for i, ok in enumerate(allowed):
        if ok:
            mask[0, i // 32] |= 1 << (i % 32)
    mask = mask.to(torch.int32)  # wraps bit 31 into the sign, as llguidance's masks do
    out = apply_bitmask(torch.zeros(1, vocab), mask)
    assert [bool(torch.isfinite(v)) for v in out[0]] == allowed


def test_closes_objects_unless_told_otherwise():
    hardened = harden_schema({"type": "object", "properties": {"a": {"type": "object", "properties": {}},
                                                               "b": {"type": "object", "properties": {},
                                                                     "additionalProperties": True}}}, 10)
    assert hardened["additionalProperties"] is False
    assert hardened["properties"]["a"]["additionalProperties"] is False
    assert hardened["properties"]["b"]["additionalProperties"] is True
