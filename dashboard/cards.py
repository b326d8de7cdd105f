"""The periods the Overview's cards show: the latest period with data in a summary, the one before it,
and the days its figures are compared with a baseline over, and that comparison. The page, its
prefetch and the server's warm-up (dashboard/serve.py) use the same functions, so they read exactly the
windows, and fill the cache entries, the page asks for."""
from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from dashboard import data
from dashboard.charts import to_date
from metrics.explain import period_start_of


def latest_rows(frame: pd.DataFrame) -> tuple[pd.Series | None, pd.Series | None]:
    """The latest period with any data in the view, and the one before it."""
    frame = frame.sort_values("period_start")
    active = frame[(frame["deployments"] > 0) | (frame["changes_deployed"] > 0) | (frame["incidents"] > 0)]
    if active.empty:
        return None, None
    position = frame.index.get_loc(active.index[-1])
    current = frame.iloc[position]
    previous = frame.iloc[position - 1] if position > 0 else None
    return current, previous


def period_days(grain: str, start) -> tuple[date, date]:
    """The first and last calendar day of the period that starts on `start`."""
    first = to_date(start)
    following = period_start_of(first + timedelta(days={"day": 1, "week": 7, "month": 32, "quarter": 93}[grain]),
                                grain)
    return first, following - timedelta(days=1)


def current_window(frame: pd.DataFrame, grain: str, last_day: date) -> tuple[date, date] | None:
    """The days of the latest period with data, to the data's `last_day`: what the cards' figures are
    compared with a baseline over."""
    current, _ = latest_rows(frame)
    if current is None:
        return None
    first, last = period_days(grain, current["period_start"])
    return first, min(last, last_day)


def load_card_comparison(snap: data.Snapshot, view: data.View, frame: pd.DataFrame, scope: str, window,
                         last_day: date) -> tuple[pd.DataFrame | None, str | None] | None:
    """The cards' comparison of `scope` (a service, or 'all': the view's team or the organisation) in
    its latest period with data (`frame`: its summary rows at the view's grain) against the baseline
    `window` (data.load_baselines): data.load_baseline_comparison's (comparison, reason); None when
    the frame has no period with data."""
    days = current_window(frame, view.grain, last_day)
    if days is None:
        return None
    return data.load_baseline_comparison(snap, (window.start, window.end), days,
                                         data.compare_scope(snap, view, None if scope == "all" else scope),
                                         view.environment)
