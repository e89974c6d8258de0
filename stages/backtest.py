"""Stage backtest: trade the test part's predictions of one currency, after fees.

Reads data/predictions/{CUR}.parquet (from evaluate) and the `backtest` rules in params.yaml (see
whalecast.evaluation.backtest); writes metrics/{CUR}_backtest.json (per model and buy-and-hold: total return before and
after fees, annualised Sharpe with its 95% block-bootstrap interval, max drawdown, turnover, hit rate,
exposure, trades and the break-even fee) and the daily equity curves, metrics/backtest/{CUR}_equity.csv.
Only this stage and the report read the backtest rules, so changing them re-runs nothing else.
"""

from whalecast import paths, settings, stage, storage
from whalecast.evaluation import backtest, predictions, uncertainty


def main(currency: str) -> None:
    params = settings.read()
    rules, bootstrap = settings.load(backtest.BacktestSettings, params), settings.load(uncertainty.BootstrapSettings, params)
    frame, probabilities = predictions.read(paths.predictions(currency))
    document, equity = backtest.run(frame, probabilities, rules, uncertainty.resample_weights(len(frame), bootstrap))
    backtest.log_outcomes(document)
    storage.write_text(equity.to_csv(index=False, float_format="%.6g", date_format="%Y-%m-%dT%H:%MZ"),
                       paths.equity_plot(currency))
    storage.write_metrics(document, paths.backtest_metrics(currency))


if __name__ == "__main__":
    stage.run(main)
