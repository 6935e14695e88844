"""Technical indicators, each causal: the value on day t uses prices up to and including day t only."""

from __future__ import annotations

import numpy as np
import pandas as pd

MIN_HISTORY = 35  # rows before every indicator below is defined (MACD's slow EMA plus its signal)


def indicator_table(close: pd.Series) -> pd.DataFrame:
    """SMA gap, momentum, volatility, RSI and MACD histogram for a daily close series."""
    log_return = np.log(close).diff()
    sma20 = close.rolling(20).mean()
    gain = log_return.clip(lower=0).rolling(14).mean()
    loss = (-log_return.clip(upper=0)).rolling(14).mean()
    rsi = 100 - 100 / (1 + gain / loss.replace(0, np.nan))
    ema12, ema26 = close.ewm(span=12, adjust=False).mean(), close.ewm(span=26, adjust=False).mean()
    macd = ema12 - ema26
    table = pd.DataFrame({
        "log_return": log_return,
        "sma_gap": close / sma20 - 1,                     # above (+) or below (-) its 20-day average
        "momentum": close / close.shift(10) - 1,          # 10-day change
        "volatility": log_return.rolling(20).std(),       # daily, over 20 days
        "rsi": rsi.fillna(50.0),
        "macd_hist": (macd - macd.ewm(span=9, adjust=False).mean()) / close,
    }, index=close.index)
    table.iloc[:MIN_HISTORY] = np.nan  # the EMAs need a warm-up before they mean anything
    return table
