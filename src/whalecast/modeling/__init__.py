"""The feature table to model inputs and models (the sequence and train stages): labels, the embargoed split and
the window rule (sequences), the training-only scaler (scaling), the LSTM (lstm; the one module that loads
TensorFlow) and the baselines (baselines). Builds on whalecast.features."""
