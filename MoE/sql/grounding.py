"""Filters must come from somewhere: every condition that narrows the rows is traced to what the user gave.

A filter - a condition of WHERE or HAVING, a condition of a JOIN's ON beyond the key equality, a LIMIT -
is grounded when
- a string literal in it is in the question, the extra context or a definition in the schema's comments
  that the question uses (definitions.py) (ignoring case, punctuation and plurals),
  is a database value grounded for the question, or appears in a few-shot example;
- a number in it is a number of the question or context (digits or words; a date's year, or the year
  after it, as the bound of a year range);
- it has no literal (`returned_on IS NULL`, a boolean column) and a word of its columns is in the question;
- it compares columns with columns or with a subquery (a relation, not an invented constant);
- a LIMIT: the question gives the number, or asks for the one most/least/top/first row (LIMIT 1).
Anything else is reported: "the question does not ask for returned_on IS NULL". The validator makes it
a warning, so the writer gets one round to remove it or to say why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from sqlglot import exp

from .bm25 import tokens
from .definitions import Definition
from .question import FUNCTION_WORDS
from .value_index import normalise

_NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())} | {"thirty": 30, "forty": 40, "fifty": 50, "hundred": 100,
                                                       "thousand": 1000, "million": 1_000_000, "once": 1, "twice": 2,
                                                       "single": 1, "both": 2, "half": 50, "dozen": 12} | {
    w: i for i, w in enumerate("zeroth first second third fourth fifth sixth seventh eighth ninth tenth".split())}
# Words that ask for the one row at an end (LIMIT 1): superlatives, and comparatives of "which ..., A or B?"
_SUPERLATIVE = frozenset(tokens("most least top first last highest lowest largest smallest biggest best worst "
                                "maximum minimum max min greatest fewest oldest youngest newest latest earliest "
                                "longest shortest cheapest priciest expensive heaviest lightest one predominantly "
                                "mainly mostly primarily main more less older younger higher lower larger smaller "
                                "bigger better worse longer shorter faster slower", keep_stop_words=True))
_DATE = re.compile(r"^(\d{4})(?:$|[-/]\d{1,2})")
_FLAGS = frozenset("t f y n true false yes no".split())


@dataclass(frozen=True)
class Grounding:
    """What a filter may come from."""
    question: str
    context: str = ""
    values: tuple[str, ...] = ()          # database values grounded for the question
    examples: tuple[str, ...] = ()        # few-shot SQL
    definitions: tuple[Definition, ...] = ()   # the schema's comments defining words of the question

    # Worked out once per question (cached on the instance), not once per filter.
    @cached_property
    def text(self) -> str:
        return " ".join([self.question, self.context] + [d.sentence for d in self.definitions])

    @cached_property
    def spelled(self) -> str:
        return _spelled(self.text)

    @cached_property
    def words(self) -> frozenset[str]:
        return frozenset(tokens(self.text, keep_stop_words=True)) - FUNCTION_WORDS

    @cached_property
    def numbers(self) -> frozenset[float]:
        found = {float(n.replace(",", "")) for n in re.findall(r"\d[\d,]*(?:\.\d+)?", self.text)}
        found |= {float(v) for w, v in _NUMBER_WORDS.items() if re.search(rf"\b{w}\b", self.text.lower())}
        return frozenset(found)


def ungrounded_filters(select: exp.Select, grounding: Grounding) -> list[str]:
    """The filters of one SELECT (its own WHERE, HAVING, ON and LIMIT) that nothing the user gave asks for."""
    problems = []
    for condition in _conditions(select):
        if not _grounded(condition, grounding):
            problems.append(f"the question does not ask for {condition.sql()}")
    limit = select.args.get("limit")
    if isinstance(limit, exp.Limit) and isinstance(limit.expression, exp.Literal) and not limit.expression.is_string:
        n = float(limit.expression.this)
        if n not in grounding.numbers and not (n == 1 and grounding.words & _SUPERLATIVE):
            problems.append(f"the question does not ask for LIMIT {limit.expression.this}")
    return problems


def _conditions(select: exp.Select) -> list[exp.Expression]:
    out = []
    for clause in (select.args.get("where"), select.args.get("having")):
        if clause is not None:
            out += _conjuncts(clause.this)
    for join in select.args.get("joins") or []:
        on = join.args.get("on")
        if on is not None:
            out += [c for c in _conjuncts(on) if not _relates_columns(c)]
    return out


def _conjuncts(condition: exp.Expression) -> list[exp.Expression]:
    if isinstance(condition, exp.And):
        return _conjuncts(condition.this) + _conjuncts(condition.expression)
    if isinstance(condition, exp.Paren):
        return _conjuncts(condition.this)
    return [condition]


def _relates_columns(condition: exp.Expression) -> bool:
    """Column against column, or against a subquery: a relation between rows, not a constant."""
    if condition.find(exp.Subquery, exp.Select) is not None:
        return True
    literals = [n for n in condition.find_all(exp.Literal)]
    return not literals and len({c.sql() for c in condition.find_all(exp.Column)}) >= 2


def _grounded(condition: exp.Expression, grounding: Grounding) -> bool:
    if _relates_columns(condition):
        return True
    literals = [n for n in condition.find_all(exp.Literal)]
    if not literals:   # IS NULL, a boolean column, NOT x: the question must name the column's subject
        words = set()
        for column in condition.find_all(exp.Column):
            words |= set(tokens(column.name, keep_stop_words=True))
        return bool(words & grounding.words) or not words
    return any(_literal_grounded(literal, grounding) for literal in literals)


def _literal_grounded(literal: exp.Literal, grounding: Grounding) -> bool:
    if not literal.is_string:
        return _number_grounded(float(literal.this), grounding)
    text = literal.this.strip("%_ ")
    if not text:
        return True
    date = _DATE.match(text)
    if date:
        year = int(date.group(1))
        return bool({float(year), float(year - 1)} & grounding.numbers)
    key = _spelled(text)
    if not key:
        return True
    if f" {key} " in f" {grounding.spelled} ":
        return True
    if key in _FLAGS or len(key) == 1:   # a code: a flag of a column the question names, or a word's initial
        column = literal.parent.find(exp.Column) if literal.parent is not None else None
        named = set(tokens(column.name, keep_stop_words=True)) & grounding.words if column is not None else set()
        if named or any(w.startswith(key) for w in tokens(grounding.text, keep_stop_words=True)):
            return True
    if any(normalise(v) == key for v in grounding.values):
        return True
    if key.replace(" ", "").isdigit() and _number_grounded(float(key.replace(" ", "")), grounding):
        return True
    return any(text.lower() in example.lower() for example in grounding.examples)


def _number_grounded(value: float, grounding: Grounding) -> bool:
    """0 and 1 are the usual constants of a condition's form (> 0, = 1 for a flag); a bound one off a number
    of the question is that number ("at least 3" is > 2); a share may be written as a percentage."""
    numbers = grounding.numbers
    near = {n + d for n in numbers for d in (-1, 0, 1)}
    return value in (0.0, 1.0) or value in near or value * 100 in numbers or value / 100 in numbers


def _spelled(text: str) -> str:
    """normalise(), with numbers written without leading zeros ("0:01:54" and '1:54' share "1 54")."""
    return " ".join(w.lstrip("0") or "0" if w.isdigit() else w for w in normalise(text).split())
