"""Technical indicators, each causal: the value on day t uses prices up to and including day t only."""

from __future__ import annotations

import numpy as np
import pandas as pd

MIN_HISTORY = 35  # rows before every indicator below is defined (MACD's slow EMA plus its signal)


def indicator_table(close: pd.Series) -> pd.DataFrame:
    """SMA gap, momentum, volatility, RSI and MACD histogram for a daily close series."""
    log_return = np.log(close).diff()
    sma20 = close.rolling(20).mean()
    rsi = wilder_rsi(close, 14)
    ema12, ema26 = close.ewm(span=12, adjust=False).mean(), close.ewm(span=26, adjust=False).mean()
    macd = ema12 - ema26
    table = pd.DataFrame({
        "log_return": log_return,
        "sma_gap": close / sma20 - 1,                     # above (+) or below (-) its 20-day average
        "momentum": close / close.shift(10) - 1,          # 10-day change
        "volatility": log_return.rolling(20).std(),       # daily, over 20 days
        "rsi": rsi,
        "macd_hist": (macd - macd.ewm(span=9, adjust=False).mean()) / close,
    }, index=close.index)
    table.iloc[:MIN_HISTORY] = np.nan  # the EMAs need a warm-up before they mean anything
    return table


def wilder_rsi(close: pd.Series, window: int = 14) -> pd.Series:
    """Wilder's RSI: average gain and loss of the price changes, smoothed with alpha 1/window. 100 when
    every change in the window was a rise, 0 when every one was a fall, 50 for a flat price."""
    change = close.diff().fillna(0.0)   # the first day has no change (as the ta library counts it)
    smooth = dict(alpha=1 / window, min_periods=window, adjust=False)
    gain = change.clip(lower=0).ewm(**smooth).mean()
    loss = (-change.clip(upper=0)).ewm(**smooth).mean()
    rsi = 100 - 100 / (1 + gain / loss)             # loss 0: gain / loss is inf and the RSI 100
    return rsi.where(~((gain == 0) & (loss == 0)), 50.0)
