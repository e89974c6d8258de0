"""How good the models are (the evaluate, walk_forward and backtest stages): scores and plot data (scoring), block
bootstrap intervals (uncertainty), the held-out test part (holdout), permutation importance (importance),
walk-forward folds (walk_forward), the test predictions file (predictions) and the trading rule after fees
(backtest). Builds on whalecast.modeling."""
