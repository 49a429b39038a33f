"""The one place for the forecasting protocol: price-feature list, StockNet splits, labels and calendar.

Everything else (dataset building, training defaults, the benchmark, tests) reads these names, so changing the
protocol is a one-line edit here.
"""

from __future__ import annotations

__all__ = [
    "CALENDAR",
    "FEATURE_VERSION",
    "OOS_END",
    "OOS_START",
    "PRICE_FEATURES",
    "PRICE_WARMUP",
    "STOCKNET_DEV_END",
    "STOCKNET_FALL_THRESHOLD",
    "STOCKNET_LAG",
    "STOCKNET_RISE_THRESHOLD",
    "STOCKNET_TEST_END",
    "STOCKNET_TRAIN_END",
    "STOCKNET_TRAIN_START",
    "VAR_LEVELS",
]

#: Exchange calendar (``exchange_calendars`` code) whose sessions and close times define a trading day.
#: All 88 StockNet stocks trade in New York; XNYS sessions are also NASDAQ's.
CALENDAR = "XNYS"

#: Daily price features, in model-input order. All are computed from data stamped at or before the close
#: of the day they describe (see ``features.price_features``).
PRICE_FEATURES: tuple[str, ...] = (
    "ret_1",            # log close-to-close return (adjusted)
    "gap",              # log open / previous close: the overnight move
    "intraday",         # log close / open
    "range",            # log high / low: a one-day volatility proxy
    "close_loc",        # where the close sits in the day's range, 0 = low .. 1 = high
    "volume_change",    # log(1 + volume) - log(1 + previous volume)
    "volume_ratio_20",  # log(1 + volume) minus its mean over the last 20 sessions
    "ret_5",            # 5-session log return (momentum)
    "ret_20",           # 20-session log return
    "volatility_5",     # std of ret_1 over the last 5 sessions
    "volatility_20",    # std of ret_1 over the last 20 sessions
)
#: Sessions of history a price feature needs before it is defined (20-day windows over a 1-day difference).
PRICE_WARMUP = 21

#: StockNet (Xu & Cohen, 2018): a target day's close-to-close move > 0.55% is a rise (1), <= -0.5% a fall (0),
#: anything between is dropped from the movement task.
STOCKNET_RISE_THRESHOLD = 0.0055
STOCKNET_FALL_THRESHOLD = -0.005
#: StockNet's lag window: the 5 trading days before the target day.
STOCKNET_LAG = 5
#: StockNet splits by target date: train [start, train_end), dev [train_end, dev_end), test [dev_end, test_end).
STOCKNET_TRAIN_START = "2014-01-01"
STOCKNET_TRAIN_END = "2015-08-01"
STOCKNET_DEV_END = "2015-10-01"
STOCKNET_TEST_END = "2016-01-01"

#: Value-at-risk confidence levels reported by the forecaster and backtested by the benchmark.
VAR_LEVELS: tuple[float, ...] = (0.95, 0.99)

#: Bumped whenever per-text features change meaning, so embedding caches written by older code are not reused.
FEATURE_VERSION = 1

#: The longer out-of-sample period the StockNet price files cover beyond the tweets (prices only):
#: [OOS_START, OOS_END). Price-only models and the baselines are also scored there.
OOS_START = "2016-01-01"
OOS_END = "2017-09-01"
