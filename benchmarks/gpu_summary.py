"""Assemble ``benchmarks/gpu_check.sh``'s one JSON summary from what its steps wrote.

    python benchmarks/gpu_summary.py --out OUT/gpu_check.json \\
        --benchmarks OUT/benchmarks.json --benchmarks-exit-code 0 \\
        --tune sam-vit-b-random 0 OUT/runs/sam-vit-b-random OUT/sam-vit-b-random.stderr \\
        --skipped-tune sam2.1-hiera-tiny-random "the sam2 package is not installed" \\
        --phase benchmarks 95.2 --phase tune-sam-vit-b-random 128.0

The summary (also printed, shortened, on stdout)::

    {"ok": true when every step exited 0 and every tune finished,
     "environment": {"gpu", "gpu_memory_gib", "compute_capability", "bf16_supported", "torch",
                     "cuda", "cudnn", "python", "sam2_installed", "git_commit"},
     "phases_s": {step: wall-clock seconds},
     "benchmarks": {"exit_code", "file", "cases": [{"name", "group", "mean_s", "stddev_s",
                    "rounds", "speedup_vs_reference", ...extra_info: "images_per_s",
                    "precision", "peak_gpu_memory_mb", ...}]},
     "tunes": {model: {"exit_code", "run_dir", ...tune_summary.tune_fields or "error",
                       "stderr_tail" when it failed} or {"skipped": why}}}

Missing or broken inputs are recorded as errors in the summary, never raised: the summary is
what is left to read when a step failed.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

from tune_summary import tune_fields

__all__ = ["benchmark_cases", "environment", "main", "summary", "tune_entry"]

#: characters of a failed tune's stderr kept in the summary
ERROR_TAIL = 2000
_REFERENCE_TEST = "test_reference_loop_epoch"


def environment() -> dict[str, Any]:
    """The GPU, torch, CUDA and cuDNN versions, and the repository's commit (None where unknown)."""
    import torch

    from qtt_core.installed import package_installed

    cuda = torch.cuda.is_available()
    properties = torch.cuda.get_device_properties(0) if cuda else None
    return {
        "gpu": torch.cuda.get_device_name(0) if cuda else None,
        "gpu_memory_gib": round(properties.total_memory / 2**30, 1) if properties else None,
        "compute_capability": f"{properties.major}.{properties.minor}" if properties else None,
        "bf16_supported": torch.cuda.is_bf16_supported() if cuda else None,
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if cuda else None,
        "python": platform.python_version(),
        "sam2_installed": package_installed("sam2", "build_sam"),
        "git_commit": _git_commit(),
    }


def _git_commit() -> str | None:
    try:
        done = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, cwd=Path(__file__).parent)
    except (OSError, subprocess.SubprocessError):
        return None
    commit = done.stdout.strip()
    return commit if done.returncode == 0 and commit else None


def benchmark_cases(path: Path) -> list[dict[str, Any]]:
    """One entry per benchmark of a ``--benchmark-json`` file: timing, ``extra_info``, and
    ``speedup_vs_reference`` (images per second over the reference loop's in the same group)."""
    payload = json.loads(path.read_text(encoding="utf-8"))
    cases = [
        {
            "name": bench["name"], "group": bench.get("group"), "mean_s": bench["stats"]["mean"],
            "stddev_s": bench["stats"]["stddev"], "rounds": bench["stats"]["rounds"], **bench.get("extra_info", {}),
        }
        for bench in payload.get("benchmarks", [])
    ]
    reference = {c["group"]: c.get("images_per_s") for c in cases if c["name"].startswith(_REFERENCE_TEST)}
    for case in cases:
        base = reference.get(case["group"])
        if base and case.get("images_per_s") is not None:
            case["speedup_vs_reference"] = case["images_per_s"] / base
    return cases


def tune_entry(exit_code: int, run_dir: Path, stderr_log: Path) -> dict[str, Any]:
    """What one ``qtt-seg tune`` did: :func:`tune_summary.tune_fields`, or ``error`` (why they
    could not be read); with ``stderr_tail`` (its last lines) when it failed either way."""
    entry: dict[str, Any] = {"exit_code": exit_code, "run_dir": str(run_dir)}
    try:
        entry.update(tune_fields(run_dir))
    except (OSError, ValueError, KeyError) as error:
        entry["error"] = f"{type(error).__name__}: {error}"
    if (exit_code != 0 or "error" in entry) and stderr_log.is_file():
        entry["stderr_tail"] = stderr_log.read_text(encoding="utf-8", errors="replace")[-ERROR_TAIL:]
    return entry


def summary(args: argparse.Namespace) -> dict[str, Any]:
    """The summary of :func:`main`'s parsed arguments (see the module docstring)."""
    benchmarks: dict[str, Any] = {"exit_code": args.benchmarks_exit_code, "file": str(args.benchmarks) if args.benchmarks else None}
    if args.benchmarks is not None:
        try:
            benchmarks["cases"] = benchmark_cases(args.benchmarks)
        except (OSError, ValueError, KeyError) as error:
            benchmarks["error"] = f"{type(error).__name__}: {error}"
    tunes: dict[str, Any] = {model: {"skipped": reason} for model, reason in args.skipped_tune}
    for model, exit_code, run_dir, stderr_log in args.tune:
        tunes[model] = tune_entry(int(exit_code), Path(run_dir), Path(stderr_log))
    ok = (
        args.benchmarks_exit_code in (None, 0) and "error" not in benchmarks
        and all(t.get("exit_code") == 0 and "error" not in t for t in tunes.values() if "skipped" not in t)
    )
    return {
        "ok": ok, "environment": environment(), "phases_s": {name: float(s) for name, s in args.phase},
        "benchmarks": benchmarks, "tunes": tunes,
    }


def _fmt(value: Any, spec: str, unit: str = "") -> str:
    return "n/a" if value is None else f"{value:{spec}}{unit}"


def _print_short(result: dict[str, Any]) -> None:
    env = result["environment"]
    print(f"GPU: {env['gpu']}, torch {env['torch']}, CUDA {env['cuda']}")
    for case in result["benchmarks"].get("cases", []):
        shown = (("images_per_s", ".1f", " img/s"), ("peak_gpu_memory_mb", ".0f", " MiB"))
        extras = [_fmt(case[key], spec, unit) for key, spec, unit in shown if key in case]
        print(f"  {case['group']:<36} {case['name']:<64} {case['mean_s']:8.3f} s  {'  '.join(extras)}")
    for model, tune in result["tunes"].items():
        if "skipped" in tune:
            print(f"  tune {model}: skipped, {tune['skipped']}")
            continue
        if "error" in tune or tune["exit_code"] != 0:
            last = (tune.get("stderr_tail") or "").strip().splitlines()[-1:]
            print(f"  tune {model}: exit code {tune['exit_code']} {tune.get('error', '')} {' '.join(last)}")
            continue
        print(
            f"  tune {model}: {tune['n_trials']} trials, {tune['epochs']} epochs in {_fmt(tune['elapsed_s'], '.0f', ' s')}, "
            f"first epoch from {_fmt(tune['first_epoch_s'], '.1f', ' s')} to {_fmt(tune['first_epoch_done_s'], '.1f', ' s')}, "
            f"{tune['precision']}, test IoU {_fmt(tune['test_iou'], '.3f')}"
        )
    print(f"ok: {result['ok']}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="the summary file to write")
    parser.add_argument("--benchmarks", type=Path, help="pytest-benchmark's --benchmark-json file")
    parser.add_argument("--benchmarks-exit-code", type=int, help="pytest's exit code")
    parser.add_argument("--tune", nargs=4, action="append", default=[], metavar=("MODEL", "EXIT_CODE", "RUN_DIR", "STDERR_LOG"))
    parser.add_argument("--skipped-tune", nargs=2, action="append", default=[], metavar=("MODEL", "REASON"))
    parser.add_argument("--phase", nargs=2, action="append", default=[], metavar=("NAME", "SECONDS"))
    return parser


def main(argv: list[str] | None = None) -> int:
    """Write the summary; exit code 0 when it says ``ok``, else 1."""
    args = _parser().parse_args(argv)
    result = summary(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    _print_short(result)
    print(f"summary: {args.out}")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
