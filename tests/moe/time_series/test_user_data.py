"""A user's table: frequencies inferred from the dates, and every bad file refused in one line naming rows or columns."""

import numpy as np
import pandas as pd
import pytest

from MoE.time_series.user_data import infer_frequency, season_length, series_set


def frame(n=40, freq="D", **extra):
    data = {"date": pd.date_range("2024-01-01", periods=n, freq=freq), "y": np.arange(n, dtype=float)}
    return pd.DataFrame(data | extra)


@pytest.mark.parametrize("freq, inferred, season", [("D", "D", 7), ("h", "h", 24), ("15min", "15min", 96),
                                                     ("MS", "MS", 12), ("W-SUN", "W-SUN", 52), ("B", "B", 5)])
def test_the_frequency_and_its_season(freq, inferred, season):
    found = series_set(frame(freq=freq), "y")
    assert found.frequency == inferred and found.season == season == season_length(inferred)


def test_a_gap_in_the_dates_is_named():
    dates = pd.date_range("2024-01-01", periods=10, freq="D").delete(4)
    with pytest.raises(ValueError, match=r"not regular: most are 1 days 00:00:00 apart, but 1 steps are not, "
                                         r"first between 2024-01-04 and 2024-01-06"):
        infer_frequency(dates)


def test_rows_out_of_order_are_sorted_and_series_split_by_id():
    table = pd.concat([frame(10).assign(store="b"), frame(10).assign(store="a", y=lambda f: f.y * 10)]).sample(
        frac=1, random_state=0)
    found = series_set(table, "y", id_column="store")
    assert [s.id for s in found.series] == ["a", "b"]
    assert list(found.series[0].values) == [10.0 * i for i in range(10)]
    assert found.series[1].dates.is_monotonic_increasing


@pytest.mark.parametrize("change, message", [
    (lambda f: f.drop(columns="y"), r"no column 'y' in the file \(columns: date\)"),
    (lambda f: f.assign(y=f.y.where(~f.index.isin([3, 17]))), r"column 'y' has blank cells .*: 2 row\(s\), at file line 5, 19"),
    (lambda f: f.assign(y=f.y.astype(object).where(f.index != 6, "south")),
     r"column 'y' has values that are not numbers: 1 row\(s\), at file line 8 \(e.g. 'south'\)"),
    (lambda f: f.assign(date=f.date.astype(str).where(f.index != 2, "yesterday")),
     r"column 'date' has values that are not dates: 1 row\(s\), at file line 4 \(e.g. 'yesterday'\)"),
    (lambda f: pd.concat([f, f.iloc[[5]]], ignore_index=True), r"dates repeat: 1 row\(s\), at file line 42"),
    (lambda f: f.iloc[:2], "at least 3 are needed"),
])
def test_bad_tables_are_one_clear_line(change, message):
    with pytest.raises(ValueError, match=message):
        series_set(change(frame()), "y")


def test_different_frequencies_across_series_are_refused():
    table = pd.concat([frame(10, "D").assign(k="a"), frame(10, "h").assign(k="b")])
    with pytest.raises(ValueError, match="different frequencies: D, h"):
        series_set(table, "y", id_column="k")
