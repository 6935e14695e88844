"""Repair rounds (MoE/sql/repair_rounds.py): the candidates' rounds go to the runner a batch a round, and
every candidate ends as it would repaired alone - scripted for the control flow, a tiny random Qwen3 for real."""

import pytest

from MoE.sql import load_orchestrator, load_orchestrator_config
from MoE.sql.repair_rounds import Repairing, repair_together
from MoE.sql.validator import ValidationReport
from Qwen3 import load_runner
from scripted import scripted_runner

SCHEMA = "CREATE TABLE customers (id INT PRIMARY KEY, email TEXT, segment TEXT)"
GOOD, BAD, WORSE = "SELECT email FROM customers", "SELECT no_such FROM customers", "SELECT nope FROM customers"


def block(sql):
    return f"```sql\n{sql}\n```"


def config(**experts):
    return load_orchestrator_config({"schema": {"ddl": SCHEMA}, "database": {"sample_rows": 20},
                                     "experts": dict({"candidates": 3, "repair_candidates": True,
                                                      "validator_expert": False}, **experts)})


def test_the_candidates_repairs_go_together_a_round_at_a_time():
    # candidate 1 needs two rounds, candidate 2 none, candidate 3 one
    runner, backend = scripted_runner(block(BAD), block(GOOD), block(BAD), block(WORSE), block(GOOD), block(GOOD))
    result = load_orchestrator(config(), runner=runner).run("List all customer emails")
    assert backend.batches == [3, 2, 1]
    assert all(f"SQL:\n{BAD}\n" in m and "failed these checks" in m for m in backend.user_messages()[3:5])
    assert f"SQL:\n{WORSE}\n" in backend.user_messages()[5]
    assert result.ok and result.sql.split() == GOOD.split() and result.repair_rounds == 3
    # listed as a one-by-one repair lists them: candidate 1's rounds, then candidate 3's
    assert [r.split(":")[0] for r in result.repair_reasons] == ["candidate 1", "candidate 1", "candidate 3"]
    assert [c["votes"] for c in result.candidates] == [3, 3, 3]


def test_a_round_past_the_time_budget_keeps_each_candidates_sql():
    from MoE.sql.json_recovery import ExpertOutputError

    def out_of_time(calls):
        raise ExpertOutputError("the time budget ran out")

    items = [Repairing(BAD, ValidationReport(BAD, issues=("e",)), {"dialect": "duckdb", "schema_prompt": SCHEMA,
                                                                   "question": "q"}, f"candidate {k}: ")
             for k in (1, 2)]
    repair_together(items, ask_all=out_of_time, check=lambda sql: None, fix=lambda sql, r: None, max_rounds=2,
                    repairable=(), dialect="duckdb", step=lambda message: None)
    assert [(i.sql, i.rounds, i.stopped) for i in items] == [(BAD, 1, True), (BAD, 1, True)]
    assert items[1].notes == ["candidate 2: repair round 1 gave no usable SQL (the time budget ran out)"]


@pytest.mark.parametrize("engine", ["on", "off"], ids=["decode-engine", "hf-generate"])
def test_batched_repairs_equal_one_by_one_on_a_real_model(tiny_config, engine):
    # a random model's JSON answers are SQL that fails its checks, so every candidate gets every round; the
    # rounds' calls share their seed (the round's), and each must still sample what it would alone
    cfg = config(sql_writer_format="json", max_repair_rounds=2)
    batched = dict(tiny_config, transformers=dict(tiny_config.get("transformers", {}), engine=engine))
    alone = dict(batched, transformers=dict(batched["transformers"], batch_size=1))   # each request decoded alone
    with load_runner(batched) as runner, load_runner(alone) as one_at_a_time:
        batches, answer = [], runner.answer

        def counted(requests, return_errors=False):
            batches.append(len(requests))
            return answer(requests, return_errors)

        runner.answer = counted
        together = load_orchestrator(cfg, runner=runner).run("List all customer emails")
        one_by_one = load_orchestrator(cfg, runner=one_at_a_time).run("List all customer emails")
    assert max(batches[1:]) > 1 and together.repair_rounds > 3           # repairs did go together
    assert (together.sql, together.error, together.repair_reasons, together.notes, together.candidates) == \
        (one_by_one.sql, one_by_one.error, one_by_one.repair_reasons, one_by_one.notes, one_by_one.candidates)
    assert [e.output for e in together.experts] == [e.output for e in one_by_one.experts]


@pytest.mark.parametrize("plain_repairs", ["expert", "conversation"])
def test_a_plain_candidates_repair_can_continue_its_conversation(plain_repairs):
    runner, backend = scripted_runner(block(BAD), block(GOOD), block(GOOD), block(GOOD))
    cfg = config(candidate_prompts=["plain"], tie_break="plain", plain_repairs=plain_repairs)
    result = load_orchestrator(cfg, runner=runner).run("List all customer emails")
    assert result.ok and result.repair_rounds == 1 and [c["votes"] for c in result.candidates] == [3, 3, 3]
    first, repair = backend.requests[0], backend.requests[3]
    roles = [m.role for m in repair.messages]
    if plain_repairs == "conversation":   # the plain prompt, the SQL as its answer, then the checks' feedback
        assert repair.messages[:2] == first.messages and roles == ["system", "user", "assistant", "user"]
        assert repair.messages[2].content == f"```sql\n{BAD}\n```"
        assert "unknown column 'no_such'" in repair.messages[3].content
        assert repair.messages[3].content.endswith("in a ```sql code block and nothing else.")
        assert repair.stop == ("\n```\n",)   # a block, whatever sql_writer_format says
    else:                                 # the sql_writer's expert prompt with the SQL and the feedback
        assert roles == ["system", "user"] and repair.messages[0] != first.messages[0]
        assert f"SQL:\n{BAD}\n" in repair.messages[1].content


def test_a_conversation_repair_is_served_from_the_prefix_cache(tiny_config):
    from MoE.sql.experts import build_messages, plain_messages, plain_repair_messages

    plain = plain_messages("duckdb", SCHEMA, "List all customer emails")
    feedback = ["[catalog] unknown column 'no_such'"]
    conversation = plain_repair_messages(plain, BAD, feedback)
    expert = build_messages("sql_writer", "duckdb", SCHEMA, "List all customer emails", sql=BAD, feedback=feedback,
                            sql_block=True)
    engine = dict(tiny_config, transformers=dict(tiny_config.get("transformers", {}), engine="on"))
    with load_runner(engine) as runner:
        first = runner.chat(plain, max_new_tokens=4)
        continued = runner.chat(conversation, max_new_tokens=4)
        other = runner.chat(expert, max_new_tokens=4)
    # the first prompt up to its assistant turn is the conversation's prefix (the turn's opening differs:
    # the template writes an empty thinking block only into the turn being generated)
    assert continued.usage.reused_prompt_tokens >= first.usage.prompt_tokens - 8
    assert other.usage.reused_prompt_tokens < first.usage.prompt_tokens // 2
