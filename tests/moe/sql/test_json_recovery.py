import json

import pytest
from hypothesis import given, strategies as st

from MoE.sql.json_recovery import ExpertOutputError, recover_json


@pytest.mark.parametrize("text, expected", [
    ('{"sql": "SELECT 1"}', {"sql": "SELECT 1"}),
    ('<think>\nmaybe {"sql": "no"}\n</think>\n\n{"sql": "yes"}', {"sql": "yes"}),
    ('{"": "<think></think>"}', {"": "<think></think>"}),            # tags inside the answer's strings stay
    ('x {"sql": "a </think> b"} y', {"sql": "a </think> b"}),
    ('thought, opened in the prompt</think>{"sql": "</think>"}', {"sql": "</think>"}),
    ('maybe {"sql": "no"}, opened in the prompt</think> {"sql": "yes"}', {"sql": "yes"}),
    ('{"": ["</think>", {}]}', {"": ["</think>", {}]}),
    ('Here you go:\n```json\n{"sql": "SELECT 2", "notes": ""}\n```\nDone.', {"sql": "SELECT 2", "notes": ""}),
    ('```\n{"a": 1}\n```', {"a": 1}),
    ('The answer is {"a": [1, 2,], "b": {"c": 3,},} ok', {"a": [1, 2], "b": {"c": 3}}),
    ('prefix [1, 2] then {"a": "}"} and {"b": 2}', {"a": "}"}),
    ('{"sql": "SELECT \'{x}\' AS brace"}', {"sql": "SELECT '{x}' AS brace"}),
])
def test_recovers(text, expected):
    assert recover_json(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "no json here", "<think>{\"a\": 1}</think>", "[1, 2, 3]", '{"a": '])
def test_gives_a_clear_error(text):
    with pytest.raises(ExpertOutputError):
        recover_json(text)


@given(st.text())
def test_arbitrary_text_never_crashes(text):
    try:
        assert isinstance(recover_json(text), dict)
    except ExpertOutputError:
        pass


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                           max_leaves=10)


@given(st.dictionaries(st.text(max_size=10), json_values, max_size=4),
       st.text(alphabet="abc xyz.:\n", max_size=30), st.text(alphabet="abc xyz.:\n", max_size=30))
def test_embedded_object_is_found(value, before, after):
    assert recover_json(f"{before}{json.dumps(value)}{after}") == value
