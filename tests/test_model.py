"""The LSTM on real (tiny) Keras models: lazy windows, byte-stable files."""

import json
import time

import numpy as np

def test_windows_are_gathered_lazily_and_exactly():
    from whalecast import lstm

    rows = np.arange(50 * 3, dtype=np.float32).reshape(50, 3)
    labels = np.arange(50, dtype=np.float32) % 2
    ends = np.array([4, 9, 10, 30, 49])
    batches = list(lstm.window_dataset(rows, labels, ends, seq_len=5, batch_size=2))
    windows = np.concatenate([batch[0].numpy() for batch in batches])
    targets = np.concatenate([batch[1].numpy() for batch in batches])
    assert [len(batch[0]) for batch in batches] == [2, 2, 1]
    np.testing.assert_array_equal(windows, np.stack([rows[end - 4: end + 1] for end in ends]))
    np.testing.assert_array_equal(targets, labels[ends])
    shuffled = lstm.window_dataset(rows, labels, ends, seq_len=5, batch_size=5, shuffle_seed=3)
    windows, targets = (tensor.numpy() for tensor in next(iter(shuffled)))
    order = [int(window[-1, 0]) // 3 for window in windows]  # the end row of each shuffled window
    assert sorted(order) == ends.tolist() and order != ends.tolist()
    np.testing.assert_array_equal(targets, labels[order])


def test_the_same_weights_give_the_same_file_and_it_loads(tmp_path):
    import zipfile

    from whalecast import lstm

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
