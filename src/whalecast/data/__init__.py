"""Raw data to clean tables (the ingest stage): one module per stream (price_bars, whale_transfers, news_items,
event_sources) over one folder reader (raw_files) and one column-typing toolkit (cells); delays says when an event
became known; sample_market is the built-in market; clean builds a currency's tables. Imports no feature code."""
