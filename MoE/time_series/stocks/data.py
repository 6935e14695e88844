"""Daily prices: loading OHLCV files (one ticker), checks with clear messages, and fabricated prices."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .indicators import MIN_HISTORY

REQUIRED = ("Date", "Open", "High", "Low", "Close", "Volume")
MAX_GAP_DAYS = 10


@dataclass(frozen=True)
class PriceData:
    ticker: str
    dates: pd.DatetimeIndex
    close: pd.Series  # adjusted close when the file has one, indexed by date

    def __len__(self) -> int:
        return len(self.close)


def load_prices(source, ticker: str | None = None, min_rows: int = MIN_HISTORY + 60) -> PriceData:
    """A CSV of daily OHLCV (Date, Open, High, Low, Close, Volume, optional Adj Close and Ticker)."""
    frame = source.copy() if isinstance(source, pd.DataFrame) else _read(Path(source))
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise ValueError(f"price data is missing columns: {', '.join(missing)} (need {', '.join(REQUIRED)})")
    if "Ticker" in frame.columns:
        frame = frame.assign(Ticker=frame["Ticker"].map(lambda t: t if pd.isna(t) else str(t)))   # 1234 -> "1234"
        ticker = None if ticker is None else str(ticker)
        tickers = sorted(frame["Ticker"].dropna().unique())
        if ticker is None and len(tickers) > 1:
            raise ValueError(f"the file has tickers {', '.join(tickers)}: pick one with --ticker")
        ticker = ticker or tickers[0]
        if ticker not in tickers:
            raise ValueError(f"ticker {ticker!r} not in the file (it has {', '.join(tickers)})")
        frame = frame[frame["Ticker"] == ticker]
    dates = pd.to_datetime(frame["Date"], errors="coerce")
    if dates.isna().any():
        raise ValueError(f"unreadable date {frame['Date'][dates.isna()].iloc[0]!r}")
    steps = dates.diff().dt.days.iloc[1:]
    if (steps <= 0).any():
        at = dates.iloc[1:][steps <= 0].iloc[0]
        raise ValueError(f"dates must increase strictly; not so at {at.date()}")
    if (steps > MAX_GAP_DAYS).any():
        position = int(np.argmax(steps.to_numpy() > MAX_GAP_DAYS))
        raise ValueError(f"gap of {int(steps.iloc[position])} days between {dates.iloc[position].date()} and "
                         f"{dates.iloc[position + 1].date()} (at most {MAX_GAP_DAYS})")
    column = "Adj Close" if "Adj Close" in frame.columns else "Close"
    numbers = pd.to_numeric(frame[column], errors="coerce")
    for bad, what in ((numbers.isna() & frame[column].notna(), "values that are not numbers"),
                      (numbers.isna(), "blank cells"), (numbers <= 0, "prices that are not positive")):
        if bad.any():
            lines = [str(i + 2) for i in bad.index[bad.to_numpy()][:5]]   # file lines: header first, 1-based
            raise ValueError(f"column {column!r} has {what}: {int(bad.sum())} row(s), at file line "
                             f"{', '.join(lines)}{', ...' if bad.sum() > 5 else ''}")
    close = pd.Series(numbers.to_numpy(dtype=float), index=pd.DatetimeIndex(dates), name="close")
    if len(close) < min_rows:
        raise ValueError(f"{len(close)} rows of prices; the indicators and a training window need at least {min_rows}")
    return PriceData(ticker or "series", close.index, close)


def fabricate_prices(n_days: int = 900, seed: int = 0, start: str = "2020-01-01") -> PriceData:
    """Stock-like prices: geometric Brownian motion with regime changes in drift and volatility."""
    rng = np.random.default_rng(seed)
    regimes = rng.integers(0, 3, size=n_days // 60 + 1).repeat(60)[:n_days]
    drift = np.array([0.0006, -0.0004, 0.0002])[regimes]
    vol = np.array([0.012, 0.022, 0.016])[regimes]
    returns = drift + vol * rng.standard_normal(n_days)
    dates = pd.bdate_range(start, periods=n_days)
    return PriceData("SYNTH", dates, pd.Series(100 * np.exp(np.cumsum(returns)), index=dates, name="close"))


def _read(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise ValueError(f"price file not found: {path}")
    return pd.read_csv(path)
