"""Forecaster: dated forecasts in the original units, calibrated intervals, baselines on the same windows,
save / load, many series, covariates, and the one-command CLI."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch

from MoE.time_series.baselines import LinearForecaster, auto_ets, repeat_last, seasonal_naive
from MoE.time_series.forecast import FORMAT, ForecastConfig, Forecaster
from MoE.time_series.intervals import ConformalIntervals, QuantileIntervals, quantile_levels
from support import REPO

FAST = dict(epochs=2, d_model=16, progress=False, seq_len=28)


def daily(n=500, level=100.0, noise=1.0, seed=0, start="2023-01-01"):
    """A weekly cycle around `level` plus Gaussian noise of known size."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = level + 5 * np.sin(2 * np.pi * t / 7) + rng.normal(0, noise, n)
    return pd.DataFrame({"date": pd.date_range(start, periods=n, freq="D"), "sales": y})


@pytest.fixture(scope="module")
def fitted():
    return Forecaster(ForecastConfig(horizon=14, **FAST)).fit(daily(), target="sales")


def test_the_forecast_is_dated_and_in_the_original_units(fitted):
    out = fitted.predict()
    assert list(out.columns) == ["date", "forecast", "lo_80", "hi_80", "lo_95", "hi_95"]
    assert list(out["date"]) == list(pd.date_range("2024-05-15", periods=14, freq="D"))   # after 2024-05-14
    assert out["forecast"].between(85, 115).all()                                        # the series' level, not z
    assert (out["lo_95"] <= out["lo_80"]).all() and (out["lo_80"] <= out["forecast"]).all()
    assert (out["forecast"] <= out["hi_80"]).all() and (out["hi_80"] <= out["hi_95"]).all()
    assert len(fitted.predict(horizon=5)) == 5
    with pytest.raises(ValueError, match="this model forecasts 1 to 14 steps"):
        fitted.predict(horizon=15)


def test_the_split_is_by_fraction_in_time(fitted):
    assert fitted._borders[None] == (350, 400)   # 70% / 10% / 20% of 500 rows
    assert fitted.data.frequency == "D" and fitted.seq_len == 28


def test_the_backtest_has_every_baseline_on_the_same_windows(fitted):
    report = fitted.backtest()
    names = [row["method"] for row in report.rows]
    assert names[:6] == [f"experts (this model), {kind} intervals" for kind in   # the forecaster's kind first
                         ("quantile head (pinball)", "conformal", "quantile head + conformal (CQR)")] + \
        ["repeat last", "seasonal naive (season 7)", "linear (DLinear-style)"]
    assert names[6].startswith("AutoETS (statsforecast, fitted per series)")
    assert all(0 < row["coverage"][0.8] <= row["coverage"][0.95] for row in report.rows if "coverage" in row)
    assert sum("coverage" in row for row in report.rows) == (7 if "not installed" not in names[6] else 6)
    assert report.windows == 100 - 14 + 1
    rows = {row["method"]: row for row in report.rows}
    assert len({rows[n]["mse"] for n in names[:3]}) == 1       # one point forecast, three kinds of interval
    # noise of sd 1 on a cycle of amplitude 5: knowing the cycle beats repeating the last value
    assert rows["seasonal naive (season 7)"]["mse"] < rows["repeat last"]["mse"]
    assert "| experts (this model), conformal intervals |" in report.to_markdown()
    router = report.router
    assert sum(mean for mean, _ in router["experts"].values()) == pytest.approx(1.0, abs=1e-4)
    assert 0 < router["entropy"] <= router["max_entropy"] == pytest.approx(np.log(3))
    assert "Router weights over the test windows: trend_expert" in report.to_markdown()


def test_intervals_cover_as_promised_on_known_noise():
    """Stationary noise: the conformal 80% and 95% bands of the linear model's errors cover about that share
    of the test windows' values, and the experts' bands of each kind come out near it too."""
    forecaster = Forecaster(ForecastConfig(horizon=7, split=(0.6, 0.2, 0.2), **FAST)).fit(
        daily(n=1500, noise=2.0, seed=3), target="sales")
    rows = {row["method"]: row for row in forecaster.backtest().rows}
    linear = rows["linear (DLinear-style)"]["coverage"]
    assert abs(linear[0.8] - 0.8) < 0.06 and abs(linear[0.95] - 0.95) < 0.04
    for kind in ("conformal", "quantile head + conformal (CQR)"):
        experts = rows[f"experts (this model), {kind} intervals"]["coverage"]
        assert abs(experts[0.8] - 0.8) < 0.12 and abs(experts[0.95] - 0.95) < 0.08, kind


def test_the_interval_kind_chosen_is_the_one_predicted(fitted):
    conformal = Forecaster(ForecastConfig(horizon=14, intervals="conformal", **FAST)).fit(daily(), target="sales")
    conformal, head = conformal.predict(), fitted.predict()
    pd.testing.assert_series_equal(conformal["forecast"], head["forecast"])   # same seed, same point forecast
    # conformal bands are symmetric around the forecast; the head's need not be
    assert np.allclose(conformal["hi_80"] - conformal["forecast"], conformal["forecast"] - conformal["lo_80"])
    assert not np.allclose(head["hi_80"] - head["forecast"], head["forecast"] - head["lo_80"])
    with pytest.raises(ValueError, match="ForecastConfig.intervals must be one of conformal, quantile, cqr"):
        ForecastConfig(intervals="bootstrap")


def test_save_and_load_give_the_same_forecast(fitted, tmp_path):
    path = fitted.save(tmp_path / "model.pt")
    loaded = Forecaster.load(path)
    pd.testing.assert_frame_equal(loaded.predict(), fitted.predict())
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"]
    with pytest.raises(ValueError, match="backtest\\(\\) needs the training data"):
        loaded.backtest()


def test_load_refuses_other_files(tmp_path):
    other = tmp_path / "other.pt"
    torch.save({"format": "something-else/9"}, other)
    with pytest.raises(ValueError, match=f"saved as format 'something-else/9'; this version reads '{FORMAT}'"):
        Forecaster.load(other)
    code = tmp_path / "code.pt"
    torch.save({"format": FORMAT, "payload": ConformalIntervals((0.8,), np.zeros((1, 2)))}, code)  # not plain data
    with pytest.raises(ValueError, match="is not a saved forecaster"):
        Forecaster.load(code)


def test_many_series_in_one_long_file():
    table = pd.concat([daily(300, level=level, seed=i).assign(store=name)
                       for i, (name, level) in enumerate([("north", 10.0), ("south", 1000.0)])])
    forecaster = Forecaster(ForecastConfig(horizon=7, **FAST)).fit(table, target="sales", id_column="store")
    out = forecaster.predict()
    assert list(out.columns[:2]) == ["store", "date"] and len(out) == 14
    by_store = out.groupby("store")["forecast"].mean()
    assert 0 < by_store["north"] < 30 and 950 < by_store["south"] < 1050   # each in its own units


def test_covariates_need_their_future_values():
    table = daily(300).assign(promo=lambda f: (f.index % 10 == 0).astype(float))
    forecaster = Forecaster(ForecastConfig(horizon=7, **FAST)).fit(table, target="sales", covariates=["promo"])
    with pytest.raises(ValueError, match="the model uses covariates promo: pass their values"):
        forecaster.predict()
    assert len(forecaster.predict(future=pd.DataFrame({"promo": [1.0]}))) == 7


def test_too_short_a_series_says_what_to_change():
    with pytest.raises(ValueError, match="has 60 rows: too few for a 28-step window, a 14-step horizon"):
        Forecaster(ForecastConfig(horizon=14, **FAST)).fit(daily(60), target="sales")


@pytest.mark.parametrize("key, value, message", [("epochs", 0, "epochs must be 1 or more"),
                                                 ("split", (0.5, 0.5, 0.5), "split must be three positive fractions"),
                                                 ("levels", (0.8, 1.2), "levels must lie between 0 and 1")])
def test_config_errors_name_the_key(key, value, message):
    with pytest.raises(ValueError, match=f"ForecastConfig.{message}"):
        ForecastConfig(**{key: value})


def test_baselines():
    cycle = np.tile(np.arange(7.0), 10)[None, :]
    assert (seasonal_naive(cycle, 10, 7) == np.tile(np.arange(7.0), 2)[None, :10]).all()
    assert (repeat_last(cycle, 3) == 6.0).all()
    rng = np.random.default_rng(0)
    windows = rng.normal(size=(400, 8))
    targets = windows[:, -1:] + 0.5 * (windows[:, -1:] - windows[:, -2:-1])   # a linear rule
    fitted = LinearForecaster(ridge=1e-6).fit(windows, targets)
    assert np.allclose(fitted.predict(windows), targets, atol=1e-4)


def test_auto_ets_is_fitted_once_per_series_and_forecasts_from_each_origin():
    pytest.importorskip("statsforecast")
    rng = np.random.default_rng(0)
    t = np.arange(400)
    series = 10 + 3 * np.sin(2 * np.pi * t / 7) + rng.normal(scale=0.2, size=len(t))
    ets = auto_ets(series[:300], season=7)
    assert ets.chosen.endswith(",A)")                              # it found the additive weekly season
    origins = np.arange(328, 393)
    actual = np.stack([series[o:o + 7] for o in origins])
    forecast = ets.predict(series, origins, 7)
    assert np.mean((forecast - actual) ** 2) < 0.1 * np.mean((series[origins - 1, None] - actual) ** 2)
    future_changed = series.copy()
    future_changed[350:] += 100                                   # no look-ahead: rows from the origin on unused
    assert np.array_equal(ets.predict(future_changed, [340, 350], 7), forecast[[12, 22]])


def test_conformal_half_width_is_the_right_order_statistic():
    errors = np.arange(1.0, 20.0)[:, None]          # 19 windows: ceil(20 * 0.8) = 16th smallest is 16
    bands = ConformalIntervals.fit(errors, (0.8, 0.95))
    assert bands.half_widths[:, 0].tolist() == [16.0, 19.0]


def test_cqr_correction_is_the_right_order_statistic():
    actual = np.zeros((19, 1))
    below = -np.arange(1.0, 20.0)[:, None]                  # the truth lies 1..19 above the upper bound
    quantiles = np.stack([below - 1, below, below - 1, below], axis=-1)    # (19, 1, 4): levels 0.8 and 0.95
    bands = QuantileIntervals.fit(quantiles, actual, (0.8, 0.95))
    assert bands.corrections[:, 0].tolist() == [16.0, 19.0]
    lower, upper = bands.bounds(quantiles, 0.8)
    assert (upper >= actual).sum() == 16                     # 16 of the 19 windows covered after the correction
    assert quantile_levels((0.8, 0.95)) == (0.1, 0.9, 0.025, 0.975)


def test_the_command_writes_the_forecast_the_backtest_the_plot_and_the_model(tmp_path):
    csv = tmp_path / "sales.csv"
    daily(400).to_csv(csv, index=False)
    done = subprocess.run([sys.executable, "-m", "MoE.time_series", "forecast", "--csv", str(csv), "--target", "sales",
                           "--horizon", "14", "--epochs", "2", "--seq-len", "28", "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, cwd=REPO, timeout=600)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["backtest.md", "forecast.csv", "forecast.png",
                                                                   "model.pt"]
    assert len(pd.read_csv(tmp_path / "out" / "forecast.csv")) == 14
    assert "| seasonal naive (season 7) |" in (tmp_path / "out" / "backtest.md").read_text()


@pytest.mark.parametrize("change, message", [
    (lambda f: f.assign(sales=f.sales.where(f.index != 9)), "column 'sales' has blank cells"),
    (lambda f: f.assign(sales=f.sales.astype(object).where(f.index != 3, "south")), "column 'sales' has values that are not numbers"),
])
def test_a_bad_file_is_one_line_and_exit_2(tmp_path, change, message):
    csv = tmp_path / "bad.csv"
    change(daily(100)).to_csv(csv, index=False)
    done = subprocess.run([sys.executable, "-m", "MoE.time_series", "forecast", "--csv", str(csv), "--target", "sales"],
                          capture_output=True, text=True, cwd=REPO, timeout=300)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and message in lines[-1] and "Traceback" not in done.stderr


def test_importing_the_package_leaves_matplotlibs_backend_alone():
    code = ("import matplotlib; matplotlib.use('svg'); import MoE.time_series, MoE.time_series.plots, "
            "MoE.time_series.forecast; print(matplotlib.get_backend())")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.stdout.strip() == "svg", done.stderr
