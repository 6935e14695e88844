"""Value grounding: literal values in a question matched to values that exist in the database.

"How many dogs are older than 3?" should become `pet_type = 'dog'`, not `'Dog'` or `'dogs'`. The
question's phrases - quoted strings, capitalised names, codes, and every run of one to three words -
are looked up in the value index (value_index.py: a bounded sample of each text column, kept on disk)
ignoring case, punctuation and plural endings, then by close spelling. The matches go to the experts
as `table.column = 'value'` lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz

from .bm25 import STOP_WORDS
from .value_index import ValueIndex, normalise
_PHRASE_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'&.\-]*")
_QUOTED = re.compile(r"[\"'“‘]([^\"'”’]{1,80})[\"'”’]")


@dataclass(frozen=True)
class ValueMatch:
    table: str
    column: str
    value: str
    mention: str
    exact: bool

    def __str__(self) -> str:
        return f"{self.table}.{self.column} = '{self.value}'" + ("" if self.exact else f"  (question says '{self.mention}')")


def mentions(question: str, max_words: int = 3) -> list[str]:
    """Phrases of the question that may be values: quoted text, then runs of 1..max_words words."""
    found = [m.group(1).strip() for m in _QUOTED.finditer(question)]
    words = _PHRASE_WORD.findall(question)
    for n in range(max_words, 0, -1):
        for i in range(len(words) - n + 1):
            phrase = words[i:i + n]
            if phrase[0].lower() in STOP_WORDS or phrase[-1].lower() in STOP_WORDS:
                continue
            found.append(" ".join(phrase).strip(".'-"))
    seen, out = set(), []
    for phrase in found:
        if phrase and phrase.lower() not in seen:
            seen.add(phrase.lower())
            out.append(phrase)
    return out


def ground_values(question: str, index: ValueIndex, limit: int = 8, fuzzy_cutoff: float = 0.8) -> list[ValueMatch]:
    """Database values the question mentions, exact (up to case, punctuation, plurals) before close spellings."""
    matches: list[ValueMatch] = []
    covered: list[str] = []
    for phrase in mentions(question):
        key = normalise(phrase)
        if not key or key.isdigit() or any(f" {key} " in f" {c} " or f" {c} " in f" {key} " for c in covered):
            continue  # a phrase inside (or around) one already matched
        hits = [(key, True)] if index.exact(key) else []
        if not hits and len(key) >= 4 and not phrase.islower():
            close = [k for k, _ in index.similar(key, fuzzy_cutoff, limit=3)]
            hits = [(_closest(key, close), False)] if close else []
        for hit, exact in hits:
            for table, column, value in index.exact(hit)[:3]:
                if all((m.table, m.column, m.value) != (table, column, value) for m in matches):
                    matches.append(ValueMatch(table, column, value, phrase, exact))
            covered.append(key)
        if len(matches) >= limit:
            break
    return matches[:limit]


def _closest(key: str, candidates: list[str]) -> str:
    """The one close spelling to offer: the most similar, then the one sharing the longest start with
    the question's word ("Asian" -> 'Asia', not the language 'Asan'). Two guesses were wrong 9 times in
    34 on Spider's questions; one guess keeps the value the writer most likely needs."""
    def shared_start(value: str) -> int:
        return next((i for i, (a, b) in enumerate(zip(key, value)) if a != b), min(len(key), len(value)))
    return max(candidates, key=lambda c: (round(fuzz.ratio(key, c) / 100, 3), shared_start(c)))


def format_values(matches: list[ValueMatch]) -> str:
    """One line per value with every column it occurs in: where the value is, not conditions to add."""
    by_value: dict[tuple[str, str], list[str]] = {}
    for m in matches:
        by_value.setdefault((m.value, m.mention), []).append(f"{m.table}.{m.column}")
    lines = []
    for (value, mention), columns in by_value.items():
        said = "" if normalise(value) == normalise(mention) else f" (the question says '{mention}')"
        lines.append(f"- '{value}'{said}: found in {', '.join(columns)}")
    return "\n".join(lines)
