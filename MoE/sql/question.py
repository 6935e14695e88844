"""What a question must be before any model is asked: not empty, within its length limit, and about the data.

"About the data" is checked with the schema's own words: a question that shares no word with any
table, column or comment, names no value of the database, and asks nothing a data question asks
("how many", "list", "average", ...) is refused - "hello" or "write me a poem" would only make the
experts invent a query.
"""

from __future__ import annotations

import re

from Qwen3.errors import ConfigError

from .bm25 import tokens
from .catalog import Catalog

DATA_WORDS = frozenset(tokens(
    "count number total sum average avg mean median max maximum min minimum top bottom list show rank most least "
    "largest smallest highest lowest distinct unique percent percentage share ratio trend monthly yearly daily "
    "weekly per each", keep_stop_words=True))
DATA_PHRASES = ("how many", "how much")
# Words that say nothing about any schema (BM25's stop words keep "name", "number" and such, which do).
FUNCTION_WORDS = frozenset("a an the of for in on by to and or with from is are was were be been being it its this "
                           "that these those there than then as at do does did not no me please".split())


class QuestionRefused(ConfigError):
    """The question was refused before any model call; the message says why."""


def check_length(question: str, extra_context: str, max_question_chars: int, max_context_chars: int) -> None:
    """Raise QuestionRefused for an empty question or one (or its context) over its limit."""
    if not question.strip():
        raise QuestionRefused("the question is empty: ask about the data, e.g. 'How many orders were placed in 2024?'")
    if len(question) > max_question_chars:
        raise QuestionRefused(f"the question is {len(question):,} characters; the limit is {max_question_chars:,} "
                              "(limits.max_question_chars)")
    if len(extra_context) > max_context_chars:
        raise QuestionRefused(f"the extra context is {len(extra_context):,} characters; the limit is "
                              f"{max_context_chars:,} (limits.max_context_chars)")


def check_about_data(question: str, extra_context: str, catalog: Catalog, values_found: bool = False) -> None:
    """Raise QuestionRefused when the question names nothing of the schema and asks nothing a data question asks."""
    if not re.search(r"[A-Za-z]", question):
        raise QuestionRefused(f"not a question about the data: {question.strip()[:60]!r}")
    words = set(tokens(question + " " + extra_context, keep_stop_words=True)) - FUNCTION_WORDS
    asks_for_data = words & DATA_WORDS or any(p in " ".join(question.lower().split()) for p in DATA_PHRASES)
    if values_found or asks_for_data or words & schema_words(catalog):
        return
    raise QuestionRefused(f"not a question about the data: {question.strip()[:60]!r} names no table, column or "
                          f"value of the schema ({', '.join(t.ref for t in catalog.tables[:5])}"
                          f"{', ...' if len(catalog.tables) > 5 else ''})")


def schema_words(catalog: Catalog) -> set[str]:
    """The words of every table and column name and comment (tokens() splits snake_case and camelCase)."""
    found: set[str] = set()
    for table in catalog.tables:
        found |= set(tokens(table.name + " " + table.comment, keep_stop_words=True))
        for column in table.columns:
            found |= set(tokens(column.name + " " + column.comment, keep_stop_words=True))
    return found - FUNCTION_WORDS
