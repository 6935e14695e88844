"""A user's table of series, checked: a date column, a numeric target, optional series ids and covariates.

Every problem is a one-line ValueError that names the column and the first rows: a missing column, a
value that is not a number, a blank cell, a repeated or out-of-order date, a gap in the dates. The
frequency is inferred from the dates (pandas' offset alias: D, h, 15min, W-SUN, MS, ...).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

# Season length (steps) by the frequency's base unit: weekly for days, daily for hours and minutes.
SEASONS = {"D": 7, "B": 5, "h": 24, "H": 24, "min": None, "T": None, "W": 52, "M": 12, "MS": 12, "ME": 12,
           "Q": 4, "QS": 4, "QE": 4, "Y": 1, "YS": 1, "YE": 1, "A": 1, "AS": 1}


@dataclass(frozen=True)
class Series:
    """One series: its id (None when the file holds one), dates, target values and covariates (T, K)."""

    id: str | None
    dates: pd.DatetimeIndex
    values: np.ndarray
    covariates: np.ndarray


@dataclass(frozen=True)
class SeriesSet:
    series: tuple[Series, ...]
    target: str
    covariates: tuple[str, ...]
    frequency: str

    @property
    def season(self) -> int:
        return season_length(self.frequency)


def read_table(source) -> pd.DataFrame:
    if isinstance(source, pd.DataFrame):
        return source.copy()
    path = Path(source)
    if not path.is_file():
        raise ValueError(f"file not found: {path}")
    if path.suffix.lower() in (".parquet", ".pq"):
        return pd.read_parquet(path)
    try:
        return pd.read_csv(path)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} is not a readable CSV: {str(exc).splitlines()[0]}") from None


def series_set(frame: pd.DataFrame, target: str, date: str = "date", id_column: str | None = None,
               covariates: Sequence[str] = ()) -> SeriesSet:
    """Check the table and split it into series (one per id), each sorted by date with a regular step."""
    needed = [date, target, *covariates] + ([id_column] if id_column else [])
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ValueError(f"no column {', '.join(map(repr, missing))} in the file (columns: "
                         f"{', '.join(map(str, frame.columns))})")
    frame = frame.reset_index(drop=True)
    dates = pd.to_datetime(frame[date], errors="coerce")
    _refuse(dates.isna() & frame[date].notna(), f"column '{date}' has values that are not dates", frame[date])
    _refuse(dates.isna(), f"column '{date}' has blank cells", None)
    frame = frame.assign(**{date: dates})
    for column in [target, *covariates]:
        numbers = pd.to_numeric(frame[column], errors="coerce")
        _refuse(numbers.isna() & frame[column].notna(), f"column '{column}' has values that are not numbers",
                frame[column])
        _refuse(numbers.isna(), f"column '{column}' has blank cells (fill them, e.g. with the previous value, "
                                "or drop those rows)", None)
        frame[column] = numbers.astype(np.float64)
    groups = frame.groupby(id_column, sort=True) if id_column else [(None, frame)]
    series, frequencies = [], set()
    for key, part in groups:
        part = part.sort_values(date, kind="stable")
        where = f" in series {key!r}" if id_column else ""
        repeated = part[date].duplicated()
        _refuse(repeated, f"dates repeat{where}", part[date])
        if len(part) < 3:
            raise ValueError(f"series{where or ''} has {len(part)} rows; at least 3 are needed to infer its frequency")
        frequency = infer_frequency(pd.DatetimeIndex(part[date]), where)
        frequencies.add(frequency)
        series.append(Series(None if key is None else str(key), pd.DatetimeIndex(part[date]),
                             part[target].to_numpy(np.float64), part[list(covariates)].to_numpy(np.float64)))
    if len(frequencies) > 1:
        raise ValueError(f"the series have different frequencies: {', '.join(sorted(frequencies))}")
    return SeriesSet(tuple(series), target, tuple(covariates), frequencies.pop())


def infer_frequency(dates: pd.DatetimeIndex, where: str = "") -> str:
    """The dates' frequency; a gap (a missing step) is an error that names the first one."""
    frequency = pd.infer_freq(dates)
    if frequency is not None:
        return frequency
    steps = pd.Series(dates[1:] - dates[:-1])
    usual = steps.mode().iloc[0]
    odd = np.flatnonzero((steps != usual).to_numpy())
    first = odd[0] if len(odd) else 0
    raise ValueError(f"the dates{where} are not regular: most are {usual} apart, but {len(odd)} steps are not, "
                     f"first between {dates[first].date() if usual >= pd.Timedelta(days=1) else dates[first]} and "
                     f"{dates[first + 1].date() if usual >= pd.Timedelta(days=1) else dates[first + 1]} "
                     "(fill the missing dates or resample the series)")


def season_length(frequency: str) -> int:
    """Steps in the main season: 7 for daily data, 24 for hourly, 96 for 15-minute, 12 for monthly."""
    offset = pd.tseries.frequencies.to_offset(frequency)
    base = offset.name.split("-")[0]
    if base in ("min", "T"):
        return max(1, (24 * 60) // offset.n)
    if base in ("h", "H"):
        return max(1, 24 // offset.n)
    return SEASONS.get(base, 1)


def future_dates(last: pd.Timestamp, frequency: str, horizon: int) -> pd.DatetimeIndex:
    return pd.date_range(last, periods=horizon + 1, freq=frequency)[1:]


def _refuse(bad: pd.Series, message: str, values: pd.Series | None) -> None:
    rows = list(bad.index[bad.to_numpy()])   # the table's own row labels: line = label + 2 (header, 1-based)
    if not rows:
        return
    shown = ", ".join(str(r + 2) for r in rows[:5]) + (", ..." if len(rows) > 5 else "")
    example = f" (e.g. {values.loc[rows[0]]!r})" if values is not None else ""
    raise ValueError(f"{message}: {len(rows)} row(s), at file line {shown}{example}")
