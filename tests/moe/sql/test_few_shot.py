"""Few-shot examples: loading the user's file and finding the most similar questions."""

import json

import pytest

from MoE.sql.few_shot import format_examples, load_examples
from Qwen3.errors import ConfigError

EXAMPLES = [{"question": "Total revenue per month", "sql": "SELECT month, SUM(amount) FROM orders GROUP BY 1"},
            {"question": "Customers from Germany", "sql": "SELECT * FROM customers WHERE country = 'DE'"},
            {"question": "Refund count per category", "sql": "SELECT category, COUNT(*) FROM refunds GROUP BY 1"}]


@pytest.mark.parametrize("suffix", [".json", ".jsonl", ".yaml"])
def test_formats_load_and_rank(tmp_path, suffix):
    path = tmp_path / f"examples{suffix}"
    if suffix == ".jsonl":
        path.write_text("\n".join(json.dumps(e) for e in EXAMPLES))
    else:
        path.write_text(json.dumps(EXAMPLES))  # JSON is YAML too
    bank = load_examples(path)
    best = bank.most_similar("What was the monthly revenue in 2024?", 2)
    assert best[0].question == "Total revenue per month" and len(best) == 1  # no other example shares a word
    assert bank.most_similar("refunds by category", 1)[0].sql.startswith("SELECT category")
    assert "Question: Total revenue per month\nSQL: SELECT month" in format_examples(best)


def test_bad_files_name_the_key(tmp_path):
    with pytest.raises(ConfigError, match="few_shot.file.*not found"):
        load_examples(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"question": "q"}]))
    with pytest.raises(ConfigError, match="example 0 .* needs a 'question' and an 'sql'"):
        load_examples(bad)
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match="does not parse"):
        load_examples(bad)
