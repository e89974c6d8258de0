"""The hourly grid every table is on: prices come in hourly bars stamped with their open time, and a decision time T
is a bar's close, so rows, windows and horizons are counted in hours."""

import pandas as pd

HOUR = pd.Timedelta(hours=1)
