import numpy as np
import pandas as pd
import pytest

from MoE.time_series import (TimeSeriesWindowDataset, _build_metadata, _generate_synthetic_series, load_table,
                             standard_splits)
from support import shared_data


def test_windows_and_targets_line_up():
    values = np.arange(30, dtype=np.float32).reshape(15, 2)
    ds = TimeSeriesWindowDataset(values, seq_len=4, horizon=3, target_channels=1, metadata=np.ones((15, 2)))
    assert len(ds) == 15 - 4 - 3 + 1
    window, target, meta = ds[2]
    assert window[:, 0].tolist() == [4, 6, 8, 10] and target.tolist() == [13, 15, 17] and meta.shape == (2,)
    multi = TimeSeriesWindowDataset(values, 4, 3)
    assert multi[0][1].shape == (3, 2) and multi[0][2].numel() == 0


@pytest.mark.parametrize("make, message", [
    (lambda: TimeSeriesWindowDataset(np.array([[1.0], [np.nan], [3.0]] * 5), 2, 1), "first at row 1, column 0"),
    (lambda: TimeSeriesWindowDataset(np.ones((10, 2)), 8, 5), "longer than the series"),
    (lambda: TimeSeriesWindowDataset(np.ones((10, 2)), 4, 2, metadata=np.ones((9, 1))), "9 rows for 10"),
    (lambda: TimeSeriesWindowDataset(np.ones((10, 2)), 4, 2, target_channels=[3]), "outside 0..1"),
    (lambda: TimeSeriesWindowDataset(np.ones((2, 2, 2)), 4, 2), "must be \\(time, channels\\)"),
])
def test_bad_data_is_a_clear_error(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_synthetic_series_and_metadata():
    series = _generate_synthetic_series(500, 3, seed=1)
    assert series.shape == (500, 3) and np.isfinite(series).all()
    assert np.array_equal(series, _generate_synthetic_series(500, 3, seed=1))
    meta = _build_metadata(500)
    assert meta.shape == (500, 4) and np.allclose(meta[0], meta[168])


def test_standard_protocol_on_etth1():
    splits = standard_splits(load_table(shared_data("ett", "ETTh1.csv")), seq_len=96)
    assert [len(s) for s in (splits.train, splits.val, splits.test)] == [8640, 2880 + 96, 2880 + 96]
    assert np.allclose(splits.train.mean(axis=0), 0, atol=1e-6) and np.allclose(splits.train.std(axis=0), 1, atol=1e-6)
    assert len(TimeSeriesWindowDataset(splits.test, 96, 96)) == 2785  # every test window, none dropped
    assert splits.columns[-1] == "OT"


def test_fifteen_minute_borders():
    splits = standard_splits(load_table(shared_data("ett", "ETTm1.csv")), seq_len=96)
    assert len(splits.train) == 34560 and len(splits.test) == 11520 + 96


def test_table_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_table(tmp_path / "none.csv")
    frame = pd.DataFrame({"when": ["2020-01-02", "2020-01-01"], "x": [1, 2]})
    with pytest.raises(ValueError, match="no date column 'date'"):
        load_table(frame)
    with pytest.raises(ValueError, match="not increasing"):
        load_table(frame, date_column="when")
    with pytest.raises(ValueError, match="needs 14400 rows"):
        standard_splits(load_table(pd.DataFrame({"date": pd.date_range("2020", periods=50, freq="h"), "x": 1.0})), 8)
