"""Execution accuracy, scored as Spider's execution / test-suite evaluation does.

Gold and predicted SQL run on the same database. The results are equal when their rows match as a
multiset - as a list when the gold SQL has ORDER BY - with columns compared up to permutation: the
prediction may list the asked-for columns in any order. Both queries run with a time limit.
"""

from __future__ import annotations

import itertools
import sqlite3
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

Rows = list[tuple]


@dataclass(frozen=True)
class Execution:
    rows: Rows | None
    error: str | None = None


def run_sqlite(path: str | Path, sql: str, timeout_s: float = 30.0) -> Execution:
    """Run one statement on a SQLite file opened read-only; errors and timeouts come back as text."""
    connection = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True, check_same_thread=False)
    connection.text_factory = lambda b: b.decode("utf-8", errors="replace")
    deadline = time.monotonic() + timeout_s
    connection.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
    try:
        return Execution([tuple(r) for r in connection.execute(sql).fetchall()])
    except sqlite3.Warning as exc:
        return Execution(None, f"not a single statement: {exc}")
    except sqlite3.Error as exc:
        message = str(exc)
        return Execution(None, f"timed out after {timeout_s:g}s" if "interrupted" in message else message)
    finally:
        connection.close()


def results_match(gold: Rows, predicted: Rows, ordered: bool) -> bool:
    """Spider's rule: same rows (as a list when `ordered`, else as a multiset), columns up to permutation."""
    if not gold and not predicted:
        return True
    if len(gold) != len(predicted):
        return False
    width = len(gold[0])
    if any(len(r) != width for r in predicted):
        return False
    for order in _column_orders(gold, predicted, width):
        permuted = [tuple(row[i] for i in order) for row in predicted]
        if (permuted == gold) if ordered else (Counter(permuted) == Counter(gold)):
            return True
    return False


def _column_orders(gold: Rows, predicted: Rows, width: int):
    """Permutations of the predicted columns worth trying: each column must hold the same values as the
    gold column it stands for (as multisets), which prunes all but a few orders."""
    gold_columns = [Counter(r[i] for r in gold) for i in range(width)]
    pred_columns = [Counter(r[i] for r in predicted) for i in range(width)]
    options = [[j for j in range(width) if pred_columns[j] == gold_columns[i]] for i in range(width)]
    if any(not o for o in options):
        return
    for order in itertools.product(*options):
        if len(set(order)) == width:
            yield order


def has_order_by(sql: str) -> bool:
    return "order by" in " ".join(sql.lower().split())


def execution_match(database: str | Path, gold_sql: str, predicted_sql: str | None,
                    timeout_s: float = 30.0) -> tuple[bool, str | None]:
    """(match, error): error names why the prediction could not be compared (None when it ran)."""
    if not predicted_sql:
        return False, "no SQL predicted"
    gold = run_sqlite(database, gold_sql, timeout_s)
    if gold.rows is None:
        return False, f"gold SQL failed: {gold.error}"
    predicted = run_sqlite(database, predicted_sql, timeout_s)
    if predicted.rows is None:
        return False, predicted.error
    return results_match(gold.rows, predicted.rows, has_order_by(gold_sql)), None


def execution_accuracy(matches: Sequence[bool]) -> float:
    return 100.0 * sum(matches) / len(matches) if matches else 0.0
