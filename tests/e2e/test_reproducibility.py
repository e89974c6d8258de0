"""The same params and data give the same bytes: a forced `dvc repro` of every stage changes no output.

Its own module (and clone of the shared repository), so that it runs beside the other pipeline tests."""

from conftest import run
from whalecast import paths


def test_a_forced_rerun_reproduces_every_output_bit_for_bit(repo, first_repro):
    lock, metrics = (repo / "dvc.lock").read_text(), (repo / paths.metrics("BTC")).read_text()
    assert str(paths.model("BTC")) in lock
    run(["dvc", "repro", "--force"], repo)
    assert (repo / "dvc.lock").read_text() == lock  # same md5 for every output: features, model, metrics, plots
    assert (repo / paths.metrics("BTC")).read_text() == metrics
