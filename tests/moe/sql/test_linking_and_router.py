import pytest

from MoE.sql.catalog import parse_ddl
from MoE.sql.bm25 import verb_stem
from MoE.sql.linking import link_schema, rank_columns, words
from MoE.sql.router import route, several_measures


def test_words_singularise():
    assert {"refund", "category", "order"} <= words("Refunds by categories for each order")
    assert words("orderItems per order_items") == {"order", "item"}


def test_small_schemas_go_whole(catalog):
    linked = link_schema("anything", catalog, full_schema_max_columns=60)
    assert linked.whole and linked.kept_columns == 41


def test_linking_keeps_asked_tables_and_their_join_path(catalog):
    linked = link_schema("Refund amount per customer country", catalog, full_schema_max_columns=0)
    kept = {t.name for t in linked.catalog.tables}
    assert {"refunds", "customers", "orders"} <= kept  # orders joins refunds to customers
    assert "shipments" not in kept and linked.kept_columns < linked.total_columns
    assert "tables" in linked.summary()


def test_unmatched_question_keeps_everything(catalog):
    assert link_schema("zzz qqq", catalog, full_schema_max_columns=0).whole


def test_router_skips_the_planner_for_lookups(catalog):
    linked = link_schema("", catalog)
    lookup = route("List all customers", linked)
    assert lookup.experts == ("sql_writer", "validator") and lookup.complexity == 0
    hard = route("Compare monthly revenue and refund totals per customer segment for 2024", linked)
    assert hard.experts == ("planner", "sql_writer", "validator") and hard.complexity >= 3
    assert any("aggregation" in r for r in hard.reasons)


def test_router_threshold_and_forcing(catalog):
    linked = link_schema("", catalog)
    assert route("Total revenue in 2024", linked, plan_threshold=2).experts[0] == "planner"
    assert route("Total revenue in 2024", linked, plan_threshold=5).experts[0] == "sql_writer"
    forced = route("List all customers", linked, always_plan=True)
    assert forced.experts[0] == "planner" and "always_plan" in forced.reasons[-1]


def test_the_plan_names_the_validator_expert_only_when_it_reviews(catalog):
    linked = link_schema("", catalog)
    assert route("List all customers", linked).experts == ("sql_writer", "validator")
    assert route("List all customers", linked, review=False).experts == ("sql_writer",)
    assert route("Total revenue in 2024", linked, always_plan=True, review=False).experts == ("planner", "sql_writer")


def test_ddl_without_keys_still_links():
    catalog = parse_ddl("CREATE TABLE a (x INT); CREATE TABLE b (y INT);")
    assert {t.name for t in link_schema("x values", catalog, full_schema_max_columns=0).catalog.tables} == {"a"}


@pytest.mark.parametrize("word, root", [
    ("ranked", "rank"), ("tagged", "tag"), ("named", "name"), ("created", "create"), ("finishing", "finish"),
    ("ordered", "order"), ("speed", "speed"), ("string", "string"), ("used", "used"), ("rank", "rank"),
])
def test_verb_stem(word, root):
    assert verb_stem(word) == root


def test_a_verb_in_the_question_finds_the_column_named_after_it():
    catalog = parse_ddl("CREATE TABLE results (id INT PRIMARY KEY, rank INT, points INT, laps INT);"
                        "CREATE TABLE drivers (id INT PRIMARY KEY, surname TEXT, code TEXT, dob DATE);")
    best = rank_columns("which driver ranked first", catalog)[0]
    assert best[1:] == ("results", "rank") and best[0] > 0


HUB = parse_ddl("""
CREATE TABLE races (race_id INT PRIMARY KEY, name TEXT, year INT);
CREATE TABLE laps (lap_id INT PRIMARY KEY, race_id INT REFERENCES races(race_id), lap_ms INT);
CREATE TABLE pit_stops (stop_id INT PRIMARY KEY, race_id INT REFERENCES races(race_id), duration INT,
                        owner_user_id INT REFERENCES users(id));
CREATE TABLE results (result_id INT PRIMARY KEY, race_id INT REFERENCES races(race_id), points INT);
CREATE TABLE users (id INT PRIMARY KEY, login TEXT);
""")


def _boosted(question):
    return {(t, c) for score, t, c in rank_columns(question, HUB) if score >= 100}


def test_a_named_key_names_the_table_that_owns_it_not_every_table_joining_to_it():
    assert _boosted("Points of the results where race_id = 5") == {("races", "race_id"), ("results", "points")}


def test_a_name_found_only_as_a_foreign_key_is_still_named():
    assert _boosted("stops by owner_user_id 7") == {("pit_stops", "owner_user_id")}
    assert _boosted("lap_ms and duration") == {("laps", "lap_ms"), ("pit_stops", "duration")}


@pytest.mark.parametrize("question, several", [
    ("List monthly revenue and refund totals for 2024.", True),
    ("What is the average and the maximum age of singers?", True),
    ("Count the orders and sum the refunds per customer", True),
    ("Show the name and the number of employees of each shop", False),
    ("How many singers are there?", False),
    ("List customers and their emails", False),
])
def test_several_measures_are_seen_on_both_sides_of_a_conjunction(question, several):
    assert several_measures(question) is several

