"""Commands that bring raw data into data/raw/: the exchange and Whale Alert fetchers (with their back-off) and the
sample market written as files. Not pipeline stages: dvc repro never needs the network. Builds on
whalecast.data."""
