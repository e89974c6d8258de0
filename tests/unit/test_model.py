"""The LSTM on real (tiny) Keras models: lazy windows, byte-stable files."""

import json
import time

import numpy as np

def test_windows_are_gathered_lazily_and_exactly():
    from whalecast.modeling import lstm

    from whalecast.modeling.sequences import Samples

    rows = np.arange(50 * 3, dtype=np.float32).reshape(50, 3)
    labels = np.arange(50, dtype=np.float32) % 2
    ends = np.array([4, 9, 10, 30, 49])
    samples = Samples(features=rows, labels=labels, last_move_down=np.zeros(50, bool), ends={"test": ends},
                      columns=["a", "b", "c"], groups={}, timestamps=None, seq_len=5)
    batches = list(lstm.window_dataset(samples, "test", batch_size=2))
    windows = np.concatenate([batch[0].numpy() for batch in batches])
    targets = np.concatenate([batch[1].numpy() for batch in batches])
    assert [len(batch[0]) for batch in batches] == [2, 2, 1]
    np.testing.assert_array_equal(windows, np.stack([rows[end - 4: end + 1] for end in ends]))
    np.testing.assert_array_equal(targets, labels[ends])
    shuffled = lstm.window_dataset(samples, "test", batch_size=5, shuffle_seed=3)
    windows, targets = (tensor.numpy() for tensor in next(iter(shuffled)))
    order = [int(window[-1, 0]) // 3 for window in windows]  # the end row of each shuffled window
    assert sorted(order) == ends.tolist() and order != ends.tolist()
    np.testing.assert_array_equal(targets, labels[order])


def test_the_same_weights_give_the_same_file_and_it_loads(tmp_path):
    import zipfile

    from whalecast.modeling import lstm

    settings = lstm.ModelSettings(seed=1, units=3, dropout=0.1, learning_rate=0.01, epochs=1, batch_size=4,
                                  patience=0, class_weight="none", n_seeds=2)
    models = []
    for _ in range(2):  # two model objects: other memory addresses, so other shared-object ids in the config
        lstm.make_deterministic(settings.seed)
        models.append(lstm.build_model(6, 2, settings))
    lstm.save_model(models[0], tmp_path / "a.keras")
    time.sleep(1.1)  # a later second: plain saves would differ in their zip dates and date_saved
    lstm.save_model(models[1], tmp_path / "b.keras")
    assert (tmp_path / "a.keras").read_bytes() == (tmp_path / "b.keras").read_bytes()
    with zipfile.ZipFile(tmp_path / "a.keras") as archive:
        assert {entry.date_time for entry in archive.infolist()} == {lstm.ZIP_DATE}
        assert "date_saved" not in json.loads(archive.read("metadata.json"))
    inputs = np.random.default_rng(0).normal(size=(4, 6, 2)).astype(np.float32)
    loaded = lstm.load_model(tmp_path / "a.keras", seq_len=6, n_features=2)
    np.testing.assert_array_equal(loaded.predict(inputs, verbose=0), models[0].predict(inputs, verbose=0))


def test_the_lstm_keeps_the_configuration_that_runs_on_cudnn():
    """On a CUDA machine Keras runs the LSTM on the fused cuDNN kernel only for tanh/sigmoid, a bias, no
    recurrent dropout, no unrolling and no mask; any other setting silently falls back to a loop several times
    slower. CPU runs are unaffected either way."""
    import keras
    # Keras' own rule (cudnn_ok is this rule and "a GPU is present", which a CPU machine is not).
    from keras.src.backend.tensorflow.rnn import _do_lstm_arguments_support_cudnn

    from whalecast.modeling import lstm

    settings = lstm.ModelSettings(seed=1, n_seeds=2, units=8, dropout=0.2, learning_rate=0.001, epochs=1,
                                  batch_size=32, patience=1, class_weight="none")
    model = lstm.build_model(24, 5, settings)
    layer = model.get_layer("lstm")
    config = layer.get_config()
    assert (config["activation"], config["recurrent_activation"]) == ("tanh", "sigmoid")
    assert config["use_bias"] and not config["unroll"] and config["recurrent_dropout"] == 0
    assert layer.use_cudnn in ("auto", True)
    assert _do_lstm_arguments_support_cudnn(activation=layer.cell.activation,
                                            recurrent_activation=layer.cell.recurrent_activation,
                                            unroll=layer.unroll, use_bias=layer.cell.use_bias)
    assert not any(isinstance(other, keras.layers.Masking) for other in model.layers)
