"""Okapi BM25 over small collections (schema columns, few-shot questions), and the tokenizer both use.

Identifiers are split the way people read them: `order_items` and `orderItems` both give `order`,
`items`, `item`; plurals are folded to a stem so "customers" finds `customer_id`.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_WORD = re.compile(r"[a-z0-9]+")
STOP_WORDS = frozenset(
    "a an the of for in on by to and or with from per each all what which who whom whose how many much list show "
    "give me is are was were be been being their its it this that these those there than then as at do does did "
    "not no please find return tell get name names number count total".split())


def stem(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("ses", "xes", "ches", "shes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def verb_stem(word: str) -> str:
    """`ranked` -> `rank`, `tagged` -> `tag`, `named` -> `name`, `finishing` -> `finish`: a question says
    what a row did where the schema names the column after it (the first step of Porter's stemmer)."""
    if len(word) < 5 or word.endswith("eed"):
        return word
    for suffix in ("ing", "ed"):
        root = word[:-len(suffix)]
        if not word.endswith(suffix) or not _VOWEL.search(root):
            continue
        if root.endswith(("at", "bl", "iz")):
            return root + "e"
        if len(root) > 2 and root[-1] == root[-2] and root[-1] not in "lsz":
            return root[:-1]
        if len(root) <= 4 and _SHORT_SYLLABLE.search(root):
            return root + "e"
        return root
    return word


_VOWEL = re.compile(r"[aeiouy]")
_SHORT_SYLLABLE = re.compile(r"(^|[^aeiou])[aeiou][^aeiouwxy]$")


def tokens(text: str, keep_stop_words: bool = False, fold_verbs: bool = False) -> list[str]:
    """Lower-case word stems; identifiers split at underscores and camelCase. `fold_verbs` also takes
    -ed and -ing off (schema linking; other callers compare words with words of the same kind)."""
    spaced = _CAMEL.sub(" ", text.replace("_", " "))
    words = [stem(w) for w in _WORD.findall(spaced.lower()) if keep_stop_words or w not in STOP_WORDS]
    return [verb_stem(w) for w in words] if fold_verbs else words


@dataclass
class BM25:
    documents: list[list[str]]
    k1: float = 1.2
    b: float = 0.75

    def __post_init__(self) -> None:
        self.frequencies = [Counter(d) for d in self.documents]
        self.lengths = [len(d) for d in self.documents]
        self.average = sum(self.lengths) / len(self.lengths) if self.lengths else 0.0
        holding = Counter(term for f in self.frequencies for term in f)
        n = len(self.documents)
        self.idf = {t: math.log(1 + (n - df + 0.5) / (df + 0.5)) for t, df in holding.items()}

    def scores(self, query: list[str]) -> list[float]:
        terms = set(query)
        out = []
        for freq, length in zip(self.frequencies, self.lengths):
            norm = self.k1 * (1 - self.b + self.b * length / (self.average or 1))
            out.append(sum(self.idf[t] * freq[t] * (self.k1 + 1) / (freq[t] + norm) for t in terms if t in freq))
        return out
