"""Stage report: one summary of every currency that a person reads, with static figures.

Writes reports/summary.md (headline tables with intervals, walk-forward mean ± std, seed spread, the LSTM
against the best baseline, what each feature group adds, the backtest after fees; then details),
reports/headline.json (the dozen values per currency a review needs) and the figures
reports/figures/{CUR}_{roc,calibration,equity,auc_per_fold}.png and headline.png. The README's results digest is
rendered from these by `make docs`.
"""

from whalecast import paths, settings, stage, storage
from whalecast.evaluation.backtest import BacktestSettings
from whalecast.evaluation.uncertainty import BootstrapSettings
from whalecast.reporting import figures, report


def main() -> None:
    params = settings.read()
    rules = settings.load(BacktestSettings, params)
    results = [report.Results.read(currency) for currency in settings.value(params, "currencies")]
    for result in results:
        figures.draw_currency(result.currency, result.test, rules.fee_bps)
    figures.headline({result.currency: result.test for result in results},
                     {result.currency: result.walk_forward for result in results}, paths.headline_figure())
    summary = report.summary(results, report.data_source(settings.value(params, "data")), rules,
                             settings.load(BootstrapSettings, params))
    storage.write_text(summary, paths.summary())
    storage.write_metrics({result.currency: report.headline_metrics(result) for result in results},
                          paths.headline_metrics())


if __name__ == "__main__":
    stage.run(main, per_currency=False)
