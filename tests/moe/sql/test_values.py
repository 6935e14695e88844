"""Value grounding on a real database: the question's words matched to values that exist."""

import sqlite3

import pytest

from MoE.sql.catalog import parse_ddl
from MoE.sql.database import SQLAlchemyDatabase
from MoE.sql.value_index import ValueIndex, normalise
from MoE.sql.values import ground_values, mentions

DDL = ("CREATE TABLE pets (pet_id INT PRIMARY KEY, pet_type TEXT, name TEXT, weight REAL); "
       "CREATE TABLE countries (code TEXT PRIMARY KEY, country_name TEXT);")


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    path = tmp_path_factory.mktemp("values") / "v.sqlite"
    with sqlite3.connect(path) as c:
        c.executescript(DDL + "INSERT INTO pets VALUES (1, 'dog', 'Rex', 10), (2, 'cat', 'Tom', 4), (3, 'dog', 'Max', 7);"
                              "INSERT INTO countries VALUES ('FRA', 'France'), ('USA', 'United States'), ('ASI', 'Asia'), "
                              "('ASN', 'Asan'), ('ARI', 'Arica'), ('AFR', 'Africa');")
    db = SQLAlchemyDatabase(f"sqlite:///{path}", 5)
    yield ValueIndex.build(parse_ddl(DDL, "sqlite"), db)
    db.close()


def found(question, index):
    return {(m.table, m.column, m.value, m.exact) for m in ground_values(question, index)}


def test_plurals_and_case_are_folded(index):
    assert ("pets", "pet_type", "dog", True) in found("How many dogs weigh more than 5?", index)
    assert ("pets", "name", "Rex", True) in found("what does rex weigh", index)


def test_multi_word_values_and_codes(index):
    assert ("countries", "country_name", "United States", True) in found("Pets in the united states", index)
    assert ("countries", "code", "FRA", True) in found("Country with code fra", index)


def test_close_spellings_are_offered_as_such(index):
    matches = ground_values("Which pets live in Frence?", index)
    assert [(m.value, m.exact, m.mention) for m in matches] == [("France", False, "Frence")]
    assert "question says 'Frence'" in str(matches[0])


@pytest.mark.parametrize("word, value", [("Asian", "Asia"), ("African", "Africa")])
def test_one_close_spelling_the_most_similar_from_the_start(word, value, index):
    # 'Asan' is as similar to "Asian" as 'Asia' is, but starts differently; 'Arica' is less similar to "African"
    assert [(m.value, m.exact) for m in ground_values(f"Pets from {word} countries", index)] == [(value, False)]


def test_numbers_and_unrelated_words_do_not_match(index):
    assert found("Pets heavier than 7 kilos", index) == set()


def test_mentions_prefer_quoted_text_and_long_phrases():
    phrases = mentions("Show 'Tabatha Gehling' votes in New York")
    assert phrases[0] == "Tabatha Gehling" and phrases.index("New York") < phrases.index("York")
    assert normalise("The Dogs!") == "the dog"


def test_hints_group_the_columns_of_one_value():
    from MoE.sql.values import ValueMatch, format_values

    matches = [ValueMatch("flights", "SourceAirport", "ATO", "ATO", True),
               ValueMatch("flights", "DestAirport", "ATO", "ATO", True),
               ValueMatch("countries", "country_name", "France", "Frence", False)]
    assert format_values(matches) == ("- 'ATO': found in flights.SourceAirport, flights.DestAirport\n"
                                      "- 'France' (the question says 'Frence'): found in countries.country_name")
