"""Stage report: one summary of every currency that a person reads, with static figures.

Writes reports/summary.md (headline tables with intervals, walk-forward mean ± std, seed spread, the LSTM
against the best baseline, what each feature group adds, the backtest after fees; then details),
reports/headline.json (the dozen values per currency a review needs) and the figures
reports/figures/{CUR}_{roc,calibration,equity,auc_per_fold}.png and headline.png. The README's results digest is
rendered from these by `make docs`.
"""

# whalecast before pandas: it sets NumPy's environment, which NumPy reads once, when pandas imports it.
from whalecast import backtest, figures, params, paths, predictions, report, stage, storage, uncertainty

import pandas as pd


def main() -> None:
    all_params = params.load()
    currencies = params.section(all_params, "currencies")
    rules = params.build(backtest.BacktestSettings, params.section(all_params, "backtest"), "backtest")
    bootstrap = params.build(uncertainty.BootstrapSettings, params.section(all_params, "bootstrap"), "bootstrap")

    results = []
    for currency in currencies:
        result = report.Results.read(currency)
        frame, probabilities = predictions.read(paths.predictions(currency))
        labels = frame["label"].to_numpy()
        figures.roc(currency, labels, probabilities, result.test, paths.figure(currency, "roc"))
        figures.calibration_curves(currency, labels, probabilities, paths.figure(currency, "calibration"))
        figures.equity(currency, pd.read_csv(paths.equity_plot(currency)), rules.fee_bps, paths.figure(currency, "equity"))
        figures.auc_per_fold(currency, pd.read_csv(paths.walk_forward_plot(currency)),
                             paths.figure(currency, "auc_per_fold"))
        results.append(result)
    figures.headline({result.currency: result.test for result in results},
                     {result.currency: result.walk_forward for result in results}, paths.headline_figure())
    text = report.summary(results, report.data_source(params.section(all_params, "data")), rules, bootstrap)
    storage.write_text(text, paths.summary())
    storage.write_metrics({result.currency: report.headline_metrics(result) for result in results},
                          paths.headline_metrics())


if __name__ == "__main__":
    stage.run(main, per_currency=False)
