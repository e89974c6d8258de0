"""Stage backtest: trade the test part's predictions of one currency, after fees.

Reads data/predictions/{CUR}.parquet (from evaluate) and the `backtest` rules in params.yaml (see
whalecast.backtest); writes metrics/{CUR}_backtest.json (per model and buy-and-hold: total return before and
after fees, annualised Sharpe with its 95% block-bootstrap interval, max drawdown, turnover, hit rate,
exposure, trades and the break-even fee) and the daily equity curves, metrics/backtest/{CUR}_equity.csv.
Only this stage and the report read the backtest rules, so changing them re-runs nothing else.
"""

from whalecast import backtest, params, paths, predictions, stage, storage, uncertainty
from whalecast.errors import InputError


def main(currency: str) -> None:
    all_params = params.load()
    settings = params.build(backtest.BacktestSettings, params.section(all_params, "backtest"), "backtest")
    bootstrap = params.build(uncertainty.BootstrapSettings, params.section(all_params, "bootstrap"), "bootstrap")
    frame, probabilities = predictions.read(paths.predictions(currency))
    try:
        weights = uncertainty.resample_weights(len(frame), bootstrap)
    except ValueError as error:
        raise InputError(paths.PARAMS, f"bootstrap: {error}") from None

    document, equity = backtest.run(frame, probabilities, settings, weights)
    backtest.log_outcomes(document)
    storage.write_text(equity.to_csv(index=False, float_format="%.6g", date_format="%Y-%m-%dT%H:%MZ"),
                       paths.equity_plot(currency))
    storage.write_metrics(document, paths.backtest_metrics(currency))


if __name__ == "__main__":
    stage.run(main)
