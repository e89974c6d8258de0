"""whalecast-predict: P(down) for an hour from the committed model, through the pipeline's own data, feature and
model-input code. Builds on whalecast.data, whalecast.features, whalecast.modeling and whalecast.acquire."""
