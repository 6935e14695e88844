"""The schema's own definitions of the words a question uses.

A comment such as "Revenue is recognised on order_date for orders not cancelled." defines a business
word that no column is named after. Small models read past it inside a long schema, so:
- a sentence of a table or column comment that defines ("X is / are / means / excludes / counts ...") a
  word of the question which is not itself a table or column name (nor a word every data question
  uses) is put before the experts as a rule, and
  counts as a source for the filters it implies (grounding.py);
- when such a sentence names an allowed value of its table (a CHECK ... IN list: 'cancelled'), SQL that
  reads the table but never tests that value gets a `definition` warning, and so a repair round that
  quotes the definition.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlglot import exp

from .bm25 import tokens
from .catalog import Catalog
from .question import DATA_WORDS

MAX_DEFINITIONS = 3
# Words a column description uses of itself ("Possible values are ...", "Higher is better"): no business word.
_GENERIC = frozenset(tokens("possible value values type kind format unit code identifier name number column field "
                            "row record entry data example examples higher lower more less better worse greater "
                            "smaller larger", keep_stop_words=True))
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
# "Revenue is ...", "Active customers are ...", "A late order means ...": a subject, then a defining verb
_DEFINES = re.compile(r"^(?:the |an? )?(?!(?:if|when|whether|where|which|this|that|it)\b)(?P<subject>[a-z][\w' -]{0,40}?) (?:is|are|means|mean|excludes|exclude|includes|"
                      r"include|counts|count|covers|cover|refers to|refer to)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Definition:
    table: str                               # the table whose comment (or column's comment) it is, as `ref`
    sentence: str
    values: tuple[tuple[str, str], ...] = ()  # (column, allowed value) of that table the sentence names

    def __str__(self) -> str:
        return f"{self.table}: {self.sentence}"


def schema_definitions(question: str, catalog: Catalog) -> list[Definition]:
    """Comment sentences that define a word of the question, those sharing most words first."""
    names = set()
    for table in catalog.tables:
        names |= set(tokens(table.name, keep_stop_words=True))
        for column in table.columns:
            names |= set(tokens(column.name, keep_stop_words=True))
    defined = {w for w in tokens(question) if not w.isdigit()} - names - DATA_WORDS - _GENERIC
    if not defined:
        return []
    found: list[tuple[int, int, Definition]] = []
    for table in catalog.tables:
        for comment in [table.comment] + [c.comment for c in table.columns]:
            for sentence in _SENTENCE.split(comment.strip()):
                match = _DEFINES.match(sentence)
                shared = defined & set(tokens(match["subject"])) if match else set()
                if shared and len(sentence) <= 300:
                    definition = Definition(table.ref, sentence.strip(), _named_values(sentence, table))
                    found.append((-len(shared), len(found), definition))
    found.sort(key=lambda f: f[:2])
    return list(dict.fromkeys(d for *_, d in found))[:MAX_DEFINITIONS]


def format_definitions(definitions: list[Definition]) -> str:
    if not definitions:
        return ""
    return ("Definitions from the schema's comments for words of the question (follow them):\n" +
            "\n".join(f"- {d}" for d in definitions))


def unmet_definitions(tree: exp.Expression, definitions: tuple[Definition, ...]) -> list[str]:
    """Definitions naming a value of a table the SQL reads, where the SQL never tests that value."""
    read = {t.name.lower() for t in tree.find_all(exp.Table)}
    literals = {str(lit.this).lower() for lit in tree.find_all(exp.Literal) if lit.is_string}
    problems = []
    for definition in definitions:
        if definition.table.split(".")[-1].lower() not in read:
            continue
        for column, value in definition.values:
            if value.lower() not in literals:
                problems.append(f"the schema defines \"{definition.sentence}\" ({definition.table}), but the SQL never "
                                f"tests {definition.table}.{column} against '{value}'")
    return problems


def _named_values(sentence: str, table) -> tuple[tuple[str, str], ...]:
    words = set(re.findall(r"[a-z0-9_]+", sentence.lower()))
    return tuple((c.name, v) for c in table.columns for v in c.allowed_values if v.lower() in words)
