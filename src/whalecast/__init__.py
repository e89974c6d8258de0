"""Hourly crypto prices and whale transfers -> causal features -> LSTM, as a DVC pipeline."""
