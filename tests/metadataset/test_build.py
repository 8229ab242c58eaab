"""Building a meta-dataset: rows as jobs finish, failures recorded, re-runs add nothing."""

from __future__ import annotations

import pandas as pd
from helpers import registry_with

from qtt_core.data.synthetic import TASK_FAMILIES, generate_task
from qtt_core.executor import Job, LocalExecutor, load_task, run_job
from qtt_core.metadataset.build import build_meta_dataset
from qtt_core.registry import Registry
from qtt_core.space import sample_configurations
from qtt_core.testing import MockAdapter



def test_rows_failures_and_an_idempotent_rerun(tmp_path):
    space = Registry(autoload=False).load_space("sam-lora")
    failing = sample_configurations(space, 3, seed=5)[1]
    from qtt_core.space import config_id

    registry = registry_with(MockAdapter(epoch_cost_s=0.1, fail_ids={config_id(failing)}))
    out = tmp_path / "meta.csv"
    tasks = ["shapes-binary", "blobs-grey"]
    summary = build_meta_dataset("mock", tasks, 3, 2, out, seed=5, registry=registry)
    assert (summary.planned, summary.succeeded, summary.failed) == (6, 4, 2)
    frame = pd.read_csv(out)
    assert len(frame) == 6 and set(frame["dataset"]) == set(tasks)
    failed = frame[frame["status"] == "failed"]
    assert len(failed) == 2 and failed["reason"].str.contains("injected").all()
    ok = frame[frame["status"] == "ok"]
    assert ok[["epoch_1_score", "epoch_2_score"]].notna().all().all()
    assert {"mf_num_samples", "mf_num_classes", "cost_s", "config_id", "seed"} <= set(frame.columns)

    again = build_meta_dataset("mock", tasks, 3, 2, out, seed=5, registry=registry)
    assert (again.skipped, again.succeeded, again.failed) == (6, 0, 0)
    assert len(pd.read_csv(out)) == 6

    more = build_meta_dataset("mock", [*tasks, "thin-lines"], 3, 2, out, seed=5, registry=registry)
    assert (more.skipped, more.succeeded + more.failed) == (6, 3)
    assert len(pd.read_csv(out)) == 9


def test_retry_failed_replaces_the_failed_rows_in_place(tmp_path):
    from qtt_core.space import config_id

    space = Registry(autoload=False).load_space("sam-lora")
    failing = sample_configurations(space, 3, seed=5)[1]
    out = tmp_path / "meta.csv"
    flaky = registry_with(MockAdapter(epoch_cost_s=0.1, fail_ids={config_id(failing)}))
    build_meta_dataset("mock", ["shapes-binary", "blobs-grey"], 3, 2, out, seed=5, registry=flaky)
    before = pd.read_csv(out)

    fixed = registry_with(MockAdapter(epoch_cost_s=0.1))
    plain = build_meta_dataset("mock", ["shapes-binary", "blobs-grey"], 3, 2, out, seed=5, registry=fixed)
    assert (plain.skipped, plain.succeeded) == (6, 0)  # failed rows count as done by default
    retried = build_meta_dataset("mock", ["shapes-binary", "blobs-grey"], 3, 2, out, seed=5, registry=fixed, retry_failed=True)
    assert (retried.skipped, retried.succeeded, retried.failed) == (4, 2, 0)
    after = pd.read_csv(out)
    assert list(after["config_id"]) == list(before["config_id"]) and list(after["dataset"]) == list(before["dataset"])
    assert (after["status"] == "ok").all()
    was_ok = before["status"] == "ok"
    pd.testing.assert_frame_equal(after[was_ok].reset_index(drop=True), before[was_ok].reset_index(drop=True), check_dtype=False)
    assert after.loc[~was_ok, "epoch_2_score"].notna().all()


def test_a_job_never_raises():
    job = Job("no-such-model", "shapes-binary", "c0", {}, 1)
    result = run_job(job, Registry(autoload=False))
    assert result.status == "failed" and "no-such-model" in result.reason


def test_generated_tasks_are_deterministic_and_varied():
    for name, recipe in TASK_FAMILIES.items():
        first, second = generate_task(recipe, seed=3), generate_task(recipe, seed=3)
        train = first.split("train")
        assert (train.image(0) == second.split("train").image(0)).all(), name
        labels = set()
        for i in range(len(train)):
            labels |= set(train.mask(i).ravel().tolist())
        assert labels == set(range(recipe.num_classes + 1)), name
    assert load_task("shapes-multiclass").num_classes == 3


def test_local_executor_yields_one_result_per_job():
    registry = registry_with(MockAdapter(epoch_cost_s=0.0))
    jobs = [Job("mock", "shapes-binary", f"c{i}", {"lr": 1e-4 * (i + 1)}, 2) for i in range(3)]
    results = list(LocalExecutor(registry).run(jobs))
    assert [r.job for r in results] == jobs and all(len(r.scores) == 2 for r in results)


def test_readers_skip_the_failed_rows_of_a_built_file(tmp_path):
    import pytest

    from qtt_core.errors import UsageError
    from qtt_core.metadataset.io import read_meta_dataset
    from qtt_core.space import config_id

    space = Registry(autoload=False).load_space("sam-lora")
    configs = sample_configurations(space, 3, seed=2)
    out = tmp_path / "meta.csv"
    registry = registry_with(MockAdapter(epoch_cost_s=0.1, fail_ids={config_id(configs[0])}))
    build_meta_dataset("mock", ["shapes-binary"], 3, 2, out, seed=2, registry=registry)
    assert (pd.read_csv(out)["status"] == "failed").sum() == 1
    table = read_meta_dataset(out, space=space)
    assert len(table) == 2 and set(table.extra["status"]) == {"ok"}
    assert config_id(configs[0]) not in {config_id(c) for c in table.configs}

    all_failed = tmp_path / "failed.csv"
    registry = registry_with(MockAdapter(epoch_cost_s=0.1, fail_ids={config_id(c) for c in configs}))
    build_meta_dataset("mock", ["shapes-binary"], 3, 2, all_failed, seed=2, registry=registry)
    with pytest.raises(UsageError, match="no rows besides 3 failed runs"):
        read_meta_dataset(all_failed)
