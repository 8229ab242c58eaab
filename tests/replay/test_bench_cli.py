"""``qtt-seg bench replay``: exit codes, --json, files."""

from __future__ import annotations

import json

import pytest

from helpers import run_cli
from qtt_core.metadataset import write_meta_dataset
from qtt_core.metadataset.synthetic import synthetic_meta_dataset, synthetic_space


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bench")
    meta = write_meta_dataset(synthetic_meta_dataset(n_datasets=3, n_configs=8, n_epochs=5), folder / "meta.csv")
    space = folder / "synthetic.yaml"
    synthetic_space().to_yaml(space)
    return meta, space, folder


def test_json_output_and_files(files):
    meta, space, folder = files
    result = run_cli(
        "bench", "replay", "--meta-dataset", meta, "--space", space, "--optimizers", "random,portfolio",
        "--seeds", "2", "--budgets", "20,40", "--datasets", "d0,d1", "--out", folder / "out", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result
    payload = json.loads(result.stdout)
    assert set(payload) == {"rows", "summary", "per_dataset", "oracle_gap", "quality", "files"}
    assert set(payload["summary"]) == {"random", "portfolio", "oracle"}
    assert set(payload["summary"]["random"]) == {"20", "40"}
    assert len(payload["rows"]) == 2 * 2 * (2 * 2 + 1)
    assert (folder / "out" / "replay.csv").is_file() and (folder / "out" / "regret_over_time.png").is_file()


def test_table_output(files):
    meta, space, _ = files
    result = run_cli("bench", "replay", "--meta-dataset", meta, "--space", space, "--optimizers", "random", "--seeds", "1")
    assert result.returncode == 0, result
    assert "random" in result.stdout and "oracle" in result.stdout


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--budgets", "60,abc"], "--budgets"),
        (["--datasets", "nope"], "nope"),
        (["--optimizers", "bohb"], "bohb"),
        (["--seeds", "0"], "--seeds"),
    ],
)
def test_bad_input_exits_2_with_one_line(files, extra, message):
    meta, space, _ = files
    result = run_cli("bench", "replay", "--meta-dataset", meta, "--space", space, *extra)
    assert result.returncode == 2, result
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_missing_file_and_unknown_space(files, tmp_path):
    _, space, _ = files
    result = run_cli("bench", "replay", "--meta-dataset", tmp_path / "none.csv", "--space", space)
    assert result.returncode == 2 and "none.csv" in result.stderr
    meta, _, _ = files
    result = run_cli("bench", "replay", "--meta-dataset", meta)  # the file names space "synthetic", not registered
    assert result.returncode == 2 and "synthetic" in result.stderr


def test_workers_option_labels_results_and_rejects_bad_counts(files):
    meta, space, folder = files
    result = run_cli(
        "bench", "replay", "--meta-dataset", meta, "--space", space, "--optimizers", "random", "--seeds", "1",
        "--budgets", "20", "--workers", "1,2", "--out", folder / "workers", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result
    payload = json.loads(result.stdout)
    assert set(payload["summary"]) == {"random", "random@2", "oracle"}
    assert {row["workers"] for row in payload["rows"]} == {1, 2, None}
    assert (folder / "workers" / "regret_vs_workers.png").is_file()
    for bad in ("0", "two", "2,2"):
        failed = run_cli("bench", "replay", "--meta-dataset", meta, "--space", space, "--workers", bad)
        assert failed.returncode == 2 and "--workers" in failed.stderr, failed
