"""JSON-schema constrained output.

The schema is compiled to a grammar by llguidance, which masks, at every step, the tokens that
would break it. Three precautions keep small models from running away: strings get a `maxLength`
cap, objects are closed to unlisted keys, and whitespace between JSON tokens is fixed, so the only
way forward is to finish the JSON. (Unbounded arrays remain the schema author's choice: use maxItems.)
"""

from __future__ import annotations

import copy
import json
from typing import Any, Mapping

import jsonschema
import torch

from .errors import StructuredOutputError

_SUBSCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_SUBSCHEMA_MAPS = ("properties", "$defs", "definitions", "patternProperties")
_SUBSCHEMA_SINGLE = ("items", "additionalProperties", "not", "if", "then", "else")


def check_schema(schema: Any) -> dict[str, Any]:
    """Reject anything that is not a JSON schema, in one line."""
    if not isinstance(schema, Mapping):
        raise StructuredOutputError(f"JSON schema must be an object, got {type(schema).__name__}")
    try:
        jsonschema.validators.validator_for(schema).check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise StructuredOutputError(f"invalid JSON schema: {exc.message}") from None
    return dict(schema)


def harden_schema(schema: Mapping[str, Any], max_string_length: int) -> dict[str, Any]:
    """A copy of `schema` that a model can always finish inside a bounded number of tokens.

    Every free-form string gets a maxLength of at most `max_string_length`, and objects that list
    their `properties` without saying anything about others are closed (additionalProperties false),
    as in OpenAI's strict mode: otherwise a model may invent keys forever.
    """
    hardened = copy.deepcopy(dict(schema))
    _harden(hardened, max_string_length)
    return hardened


def _harden(node: Any, max_length: int) -> None:
    if not isinstance(node, dict):
        return
    types = node.get("type")
    is_string = types == "string" or (isinstance(types, list) and "string" in types)
    if is_string and not any(k in node for k in ("enum", "const", "pattern", "format")):
        node["maxLength"] = max(min(node.get("maxLength", max_length), max_length), node.get("minLength", 0))
    if "properties" in node and "additionalProperties" not in node and "patternProperties" not in node:
        node["additionalProperties"] = False
    for key in _SUBSCHEMA_LISTS:
        for child in node.get(key, []) or []:
            _harden(child, max_length)
    for key in _SUBSCHEMA_MAPS:
        for child in (node.get(key) or {}).values():
            _harden(child, max_length)
    for key in _SUBSCHEMA_SINGLE:
        _harden(node.get(key), max_length)


def parse_json_output(text: str, schema: Mapping[str, Any]) -> Any:
    """Parse the answer and validate it against the schema; StructuredOutputError otherwise."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StructuredOutputError(f"output is not valid JSON ({exc.msg} at char {exc.pos})") from None
    errors = sorted(jsonschema.validators.validator_for(schema)(schema).iter_errors(value),
                    key=lambda e: list(e.path))
    if errors:
        where = "/".join(str(p) for p in errors[0].path) or "<root>"
        raise StructuredOutputError(f"output does not match the schema at {where}: {errors[0].message}")
    return value


def compile_json_grammar(schema: Mapping[str, Any]) -> str:
    """The llguidance grammar for a schema, with compact separators and no free whitespace."""
    import llguidance

    options = {"whitespace_flexible": False, "item_separator": ", ", "key_separator": ": "}
    return llguidance.LLMatcher.grammar_from_json_schema(json.dumps(schema), defaults=options)


class GrammarState:
    """One sequence's progress through a grammar: feed it each sampled token, ask what may follow."""

    def __init__(self, lltokenizer: Any, grammar: str, eos_token_id: int):
        import llguidance

        self._matcher = llguidance.LLMatcher(lltokenizer, grammar, log_level=0)
        if self._matcher.is_error():
            raise StructuredOutputError(f"JSON schema not supported: {self._matcher.get_error()}")
        self.eos_token_id = eos_token_id
        self.words = (lltokenizer.vocab_size + 31) // 32

    @property
    def finished(self) -> bool:
        return self._matcher.is_stopped() or self._matcher.is_error()

    def consume(self, token: int) -> None:
        if not self.finished:
            self._matcher.consume_token(token)

    def fill_bitmask(self, bitmask: torch.Tensor, row: int) -> None:
        """Write the allowed next tokens into row `row` of a packed int32 bitmask."""
        if self.finished:  # complete (or broken): the only way out is end-of-sequence
            bitmask[row].zero_()
            bitmask[row, self.eos_token_id // 32] = 1 << (self.eos_token_id % 32)
            return
        import llguidance.torch

        llguidance.torch.fill_next_token_bitmask(self._matcher, bitmask, row)


def new_bitmask(rows: int, words: int) -> torch.Tensor:
    return torch.full((rows, words), -1, dtype=torch.int32)


def apply_bitmask(scores: torch.Tensor, bitmask: torch.Tensor) -> torch.Tensor:
    """Set to -inf every logit whose bit in the packed int32 mask is 0."""
    bits = torch.arange(32, dtype=torch.int32)
    allowed = ((bitmask.unsqueeze(-1) >> bits) & 1).bool().reshape(bitmask.shape[0], -1)
    vocab = scores.shape[-1]
    if allowed.shape[1] < vocab:
        pad = torch.zeros(allowed.shape[0], vocab - allowed.shape[1], dtype=torch.bool)
        allowed = torch.cat([allowed, pad], dim=1)
    return scores.masked_fill(~allowed[:, :vocab].to(scores.device), float("-inf"))


class JsonLogitsProcessor:
    """A transformers logits processor that keeps each batch row inside the schema's grammar.

    Rows are independent: each has its own GrammarState, fed the token chosen at the previous step.
    """

    def __init__(self, lltokenizer: Any, grammar: str, batch_size: int, eos_token_id: int):
        self._states = [GrammarState(lltokenizer, grammar, eos_token_id) for _ in range(batch_size)]
        self._bitmask = new_bitmask(batch_size, self._states[0].words)
        self._started = False

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        for row, state in enumerate(self._states):
            if self._started:
                state.consume(int(input_ids[row, -1]))
            state.fill_bitmask(self._bitmask, row)
        self._started = True
        return apply_bitmask(scores, self._bitmask)
