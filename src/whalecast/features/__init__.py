"""Clean tables to the hourly feature table (the featurize stage): the window engine (window_engine), the specs
params.yaml declares (feature_specs), the table (feature_table) and the groups an experiment switches
(feature_groups). Builds on whalecast.data."""
