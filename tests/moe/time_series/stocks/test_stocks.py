import numpy as np
import pandas as pd
import pytest

from MoE.time_series.stocks import (DebateExpert, StockConsensusSystem, StockPredictor, fabricate_prices,
                                    indicator_table, load_prices, run_debate)
from MoE.time_series.stocks.backtest import diebold_mariano, refit_schedule, walk_forward
from support import shared_data

QUIET = {"sma_gap": 0.0, "momentum": 0.0, "volatility": 0.01, "rsi": 50.0, "macd_hist": 0.0}


# --- indicators ---------------------------------------------------------------------------------

def test_indicators_are_causal():
    prices = fabricate_prices(300, seed=1).close
    changed = prices.copy()
    changed.iloc[200:] *= 1.5
    a, b = indicator_table(prices), indicator_table(changed)
    pd.testing.assert_frame_equal(a.iloc[:200], b.iloc[:200])
    assert not a.iloc[200:].equals(b.iloc[200:])


def test_indicators_on_a_flat_price():
    table = indicator_table(pd.Series(np.full(60, 10.0))).iloc[-1]
    assert (table.sma_gap, table.momentum, table.volatility, table.rsi, table.macd_hist) == (0, 0, 0, 50, 0)


# --- price data -----------------------------------------------------------------------------------

def frame(n=120, **changes):
    data = {"Date": pd.bdate_range("2020-01-01", periods=n).strftime("%Y-%m-%d"), "Open": 1.0, "High": 1.0,
            "Low": 1.0, "Close": np.linspace(10, 20, n), "Volume": 100}
    data.update(changes)
    return pd.DataFrame(data)


@pytest.mark.parametrize("make, message", [
    (lambda: frame().drop(columns=["Volume"]), "missing columns: Volume"),
    (lambda: frame().iloc[::-1], "dates must increase strictly"),
    (lambda: frame().drop(index=range(50, 60)), r"gap of \d+ days between"),
    (lambda: frame(40), "40 rows of prices"),
    (lambda: frame(Close=-1.0), r"column 'Close' has prices that are not positive: 120 row\(s\), at file line 2, 3"),
    (lambda: frame().assign(Close=lambda f: f.Close.where(f.index != 7)),
     r"column 'Close' has blank cells: 1 row\(s\), at file line 9"),
    (lambda: frame().assign(Close=lambda f: f.Close.astype(object).where(f.index != 4, "south")),
     r"column 'Close' has values that are not numbers: 1 row\(s\), at file line 6"),
    (lambda: pd.concat([frame().assign(Ticker="A"), frame().assign(Ticker="B")]), "pick one with --ticker"),
])
def test_bad_price_data_is_a_clear_error(make, message):
    with pytest.raises(ValueError, match=message):
        load_prices(make())


def test_adjusted_close_and_ticker():
    path = shared_data("stocks", "stocks_bokeh_quandl_wiki.csv")
    prices = load_prices(path, "IBM")
    raw = pd.read_csv(path).query("Ticker == 'IBM'")
    assert prices.ticker == "IBM" and len(prices) == 3270
    assert prices.close.iloc[0] == raw["Adj Close"].iloc[0] != raw["Close"].iloc[0]   # the adjusted close
    with pytest.raises(ValueError, match="ticker 'XYZ' not in the file"):
        load_prices(shared_data("stocks", "stocks_bokeh_quandl_wiki.csv"), "XYZ")


def test_a_numeric_ticker_column_is_read_as_names():
    table = pd.concat([frame().assign(Ticker=1234), frame().assign(Ticker=5678)])
    assert load_prices(table, "1234").ticker == "1234"
    with pytest.raises(ValueError, match="the file has tickers 1234, 5678: pick one with --ticker"):
        load_prices(table)


def test_fabricated_prices_are_deterministic():
    assert fabricate_prices(200, seed=3).close.equals(fabricate_prices(200, seed=3).close)


# --- the debate, round by round --------------------------------------------------------------------

def test_agreement_when_every_view_is_close():
    result = run_debate(100.02, 100.0, QUIET, tolerance=0.002)
    assert result.consensus == "agreed" and result.rounds == 1 and result.final_price == 100.02
    assert {s.stance for s in result.transcript} == {"agree"}


def test_tolerance_edges():
    expert = [DebateExpert("m", "momentum", threshold=0.0, doubt_bias=0.0)]
    # momentum 0.2 -> expected +1% -> proposal 101; candidate 100.9 is 0.1% away
    at_edge = run_debate(100.9, 100.0, {"momentum": 0.2}, expert, tolerance=0.001 + 1e-9)
    just_over = run_debate(100.9, 100.0, {"momentum": 0.2}, expert, tolerance=0.00099)
    assert at_edge.consensus == "agreed" and at_edge.rounds == 1
    assert just_over.transcript[0].stance == "doubt"


def test_doubts_pull_the_candidate_until_agreement():
    expert = [DebateExpert("m", "momentum", hold_rounds=1)]
    result = run_debate(100.0, 100.0, {"momentum": 0.2}, expert, tolerance=0.002, pull=0.5, max_rounds=10)
    stances = [s.stance for s in result.transcript]
    assert stances[0] == "doubt" and stances[-1] == "agree" and result.consensus == "agreed"
    assert abs(result.final_price - 101.0) <= 0.2


def test_an_expert_holds_its_doubt_while_its_indicator_disagrees():
    # momentum 0.02 -> expected +0.1% -> proposal 100.1; the main model says 99 (-1%)
    expert = [DebateExpert("m", "momentum", hold_rounds=2)]
    result = run_debate(99.0, 100.0, {"momentum": 0.02}, expert, tolerance=0.005, pull=0.9)
    # round 1: gap 1.1% > 0.5%: doubt. round 2: candidate 99.99, inside tolerance, but still implies a fall
    # while momentum says rise: the doubt is held. round 3: candidate 100.089 implies a rise: agree.
    assert [s.stance for s in result.transcript] == ["doubt", "doubt", "agree"]
    assert "holding its doubt" in result.transcript[1].reason
    assert result.consensus == "agreed" and result.rounds == 3


def test_holding_runs_out_after_hold_rounds():
    expert = [DebateExpert("m", "momentum", hold_rounds=2)]
    result = run_debate(99.0, 100.0, {"momentum": 0.02}, expert, tolerance=0.01, pull=0.5)
    # a fresh doubt, then two held rounds while the candidate still implies a fall, then the hold runs out
    assert [s.stance for s in result.transcript] == ["doubt", "doubt", "doubt", "agree"]
    assert result.final_price < 100.0  # still opposed to the indicator, but the expert's hold is spent


def test_forced_consensus_averages_every_proposal():
    experts = [DebateExpert("up", "momentum"), DebateExpert("down", "sma_gap")]
    values = {"momentum": 0.4, "sma_gap": 0.2}   # proposals 102 and 95
    result = run_debate(100.0, 100.0, values, experts, tolerance=0.001, max_rounds=3)
    assert result.consensus == "forced" and result.rounds == 3
    assert result.final_price == pytest.approx((100.0 + 102.0 + 95.0) / 3)
    assert len(result.transcript) == 6 and "forced consensus" in result.explanation()


def test_debate_is_a_pure_function():
    values = {"sma_gap": 0.03, "momentum": -0.02, "volatility": 0.015, "rsi": 65.0, "macd_hist": 0.001}
    assert run_debate(101.0, 100.0, values) == run_debate(101.0, 100.0, values)
    exported = run_debate(101.0, 100.0, values).to_json()
    assert set(exported["transcript"][0]) == {"round", "expert", "indicator", "indicator_value", "stance",
                                              "proposal", "reason"}


@pytest.mark.parametrize("call, message", [
    (lambda: run_debate(-1, 100, QUIET), "positive"),
    (lambda: run_debate(100, 100, {"rsi": 50}), "missing for: sma_gap"),
    (lambda: run_debate(100, 100, QUIET, max_rounds=0), "max_rounds >= 1"),
    (lambda: DebateExpert("x", "volume"), "indicator must be one of"),
])
def test_debate_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --- predictor and backtest -----------------------------------------------------------------------

def test_diebold_mariano():
    rng = np.random.default_rng(0)
    noise = rng.normal(size=500)
    assert diebold_mariano(noise, noise) == (0.0, 1.0)
    stat, p = diebold_mariano(noise * 0.5, noise)
    assert stat < 0 and p < 1e-6
    stat, p = diebold_mariano(noise + 0.01 * rng.normal(size=500), noise)
    assert p > 0.01


def test_predictions_never_look_ahead():
    prices = fabricate_prices(400, seed=2)
    predictor = StockPredictor(seq_len=20, horizon=3, seed=0)
    predictor.fit(prices, end=300, epochs=1)
    before = predictor.predict_returns(prices, [250, 299])
    future = prices.close.copy()
    future.iloc[300:] *= 2.0
    altered = type(prices)(prices.ticker, prices.dates, future)
    assert np.allclose(before, predictor.predict_returns(altered, [250, 299]))


def test_walk_forward_against_the_random_walk():
    prices = load_prices(shared_data("stocks", "stocks_bokeh_quandl_wiki.csv"), "IBM")
    result = walk_forward(StockConsensusSystem(StockPredictor(seq_len=20, horizon=1, seed=0)), prices, epochs=1)
    assert result.days == 3270 - int(3270 * 0.8)  # every close of the last 20%, forecast the day before
    assert result.random_walk.mape == pytest.approx(0.0083, abs=0.0001)  # the published 0.83% on these days
    assert 0 <= result.consensus.direction <= 1 and 0.5 <= result.majority_rate <= 0.6
    assert result.consensus.dm_p is not None and 0 <= result.forced_share <= 1


# --- indicators against a reference library (ta, a test dependency only) -------------------------

def test_rsi_is_100_when_every_day_rose_and_0_when_every_day_fell():
    from MoE.time_series.stocks.indicators import wilder_rsi

    assert wilder_rsi(pd.Series(np.linspace(10, 20, 40))).iloc[-1] == 100.0
    assert wilder_rsi(pd.Series(np.linspace(20, 10, 40))).iloc[-1] == 0.0
    assert indicator_table(pd.Series(np.linspace(10, 20, 60))).rsi.iloc[-1] == 100.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_indicators_match_the_ta_library(seed):
    """From day 120 on: the MACD's exponential averages start one warm-up apart in the two libraries, a
    difference that has decayed below 1e-6 by then; RSI, SMA and momentum agree from their first value."""
    ta = pytest.importorskip("ta")
    close = fabricate_prices(300, seed=seed).close
    ours = indicator_table(close).iloc[120:]
    reference = pd.DataFrame({
        "rsi": ta.momentum.RSIIndicator(close, window=14).rsi(),
        "sma_gap": close / ta.trend.SMAIndicator(close, window=20).sma_indicator() - 1,
        "macd_hist": ta.trend.MACD(close, window_slow=26, window_fast=12, window_sign=9).macd_diff() / close,
        "momentum": ta.momentum.ROCIndicator(close, window=10).roc() / 100,
    }).iloc[120:]
    for column in reference:
        np.testing.assert_allclose(ours[column], reference[column], rtol=1e-6, atol=1e-9, err_msg=column)



# --- walk-forward refits ------------------------------------------------------------------------------

@pytest.mark.parametrize("split, last, every, blocks", [
    (100, 119, None, [(100, 120)]),
    (100, 119, 10, [(100, 110), (110, 120)]),
    (100, 119, 7, [(100, 107), (107, 114), (114, 120)]),
])
def test_refit_schedule(split, last, every, blocks):
    assert refit_schedule(split, last, every) == blocks


def test_walk_forward_refits_without_look_ahead():
    """Prices changed from day 230 on cannot change any prediction made before day 229 (the predictor
    trained at each refit saw only the days before it)."""
    prices = fabricate_prices(260, seed=4)
    changed = prices.close.copy()
    changed.iloc[230:] *= 1.3
    altered = type(prices)(prices.ticker, prices.dates, changed)
    runs = [walk_forward(StockConsensusSystem(StockPredictor(seq_len=20, horizon=1, seed=0)), p, epochs=1,
                         refit_every=10) for p in (prices, altered)]
    assert runs[0].refits == 6 and runs[0].days == 52 == len(runs[0].predicted)
    before = 229 - (208 - 1)   # test days are 207..258; days before 229 are the first 22
    assert runs[0].predicted[:before] == runs[1].predicted[:before]
    assert runs[0].predicted[before + 2:] != runs[1].predicted[before + 2:]
