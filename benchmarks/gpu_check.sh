#!/usr/bin/env bash
# The GPU check: one command, from the repository root after the README install.
#
#     bash benchmarks/gpu_check.sh [OUT_DIR]          # default OUT_DIR: gpu-check-<date>-<time>
#
# On a machine where torch sees a CUDA GPU it
#   1. runs the CUDA benchmarks (`pytest benchmarks -m cuda`): SAM (sam-vit-b) and SAM 2
#      (sam2.1-hiera-tiny) training epochs in fp32, bf16 and fp16 against the reference loops in
#      the same precision, and an in-process tune of sam-vit-b-random for $BENCH_TUNE_BUDGET_S s
#      (default 30), into OUT_DIR/benchmarks.json (log: benchmarks.log);
#   2. writes the demo's generated set (textured-binary, 24/8/8 pairs) to OUT_DIR/data;
#   3. runs `qtt-seg tune --json` for $TUNE_BUDGET_S s (default 120) of sam2.1-hiera-tiny-random
#      (only with the sam2 package installed; otherwise the summary says so) and of
#      sam-vit-b-random: seeded random weights from benchmarks/random_weights_plugin.py, no
#      download. Run folders in OUT_DIR/runs/<model>, stdout and stderr in OUT_DIR/<model>.*;
#   4. writes ONE summary, OUT_DIR/gpu_check.json (benchmarks/gpu_summary.py: GPU, versions,
#      per benchmark mean, images/s, peak memory and precision, per tune its result fields),
#      and prints it shortened.
# About 7 minutes on an H200 with sam2 installed (2-3 min of benchmarks, 2 x 2 min of tunes).
# Exit code: 0 when every step passed, 1 when one failed (the summary says which), 2 without a GPU.
# Settings (environment): PYTHON (default python), TUNE_BUDGET_S, BENCH_TUNE_BUDGET_S.
set -uo pipefail

cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python}
TUNE_BUDGET_S=${TUNE_BUDGET_S:-120}
BENCH_TUNE_BUDGET_S=${BENCH_TUNE_BUDGET_S:-30}
OUT=${1:-gpu-check-$(date +%Y%m%d-%H%M%S)}

if ! "$PYTHON" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)'; then
    version=$("$PYTHON" -c 'import torch; print(torch.__version__)' 2>/dev/null || echo "not importable")
    echo "gpu_check: torch.cuda.is_available() is False (torch $version, $PYTHON); run it on a machine with a CUDA GPU and a CUDA build of torch" >&2
    exit 2
fi

mkdir -p "$OUT" && OUT=$(cd "$OUT" && pwd)
summary=(--out "$OUT/gpu_check.json")

echo "== CUDA benchmarks -> $OUT/benchmarks.json"
started=$SECONDS
QTT_BENCH_TUNE_BUDGET_S=$BENCH_TUNE_BUDGET_S timeout -k 10 600 "$PYTHON" -m pytest benchmarks -m cuda -q -p no:cacheprovider \
    --benchmark-json="$OUT/benchmarks.json" --benchmark-columns=mean,rounds 2>&1 | tee "$OUT/benchmarks.log"
status=${PIPESTATUS[0]}
summary+=(--benchmarks "$OUT/benchmarks.json" --benchmarks-exit-code "$status" --phase benchmarks $((SECONDS - started)))

"$PYTHON" -c 'import sys; from pathlib import Path; from qtt_core.demo import DEMO_TASK, write_task_folder; write_task_folder(DEMO_TASK, Path(sys.argv[1]))' "$OUT/data"

tune() {  # tune MODEL: a `qtt-seg tune` of MODEL on the generated set, with the random-weights plugin
    local model=$1 started=$SECONDS status
    echo "== qtt-seg tune --model $model --budget $TUNE_BUDGET_S -> $OUT/runs/$model"
    QTT_SEG_PLUGINS=${QTT_SEG_PLUGINS:+$QTT_SEG_PLUGINS,}random_weights_plugin PYTHONPATH="$PWD/benchmarks${PYTHONPATH:+:$PYTHONPATH}" \
        timeout -k 10 $((TUNE_BUDGET_S + 120)) "$PYTHON" -m qtt_core.cli.main tune "$OUT/data" --budget "$TUNE_BUDGET_S" \
        --model "$model" --device cuda --out "$OUT/runs/$model" --json >"$OUT/$model.result.json" 2>"$OUT/$model.stderr"
    status=$?
    echo "   exit code $status after $((SECONDS - started)) s"
    summary+=(--tune "$model" "$status" "$OUT/runs/$model" "$OUT/$model.stderr" --phase "tune $model" $((SECONDS - started)))
}

if "$PYTHON" -c 'import sys; from qtt_core.installed import package_installed; sys.exit(0 if package_installed("sam2", "build_sam") else 1)'; then
    tune sam2.1-hiera-tiny-random
else
    summary+=(--skipped-tune sam2.1-hiera-tiny-random "the sam2 package is not installed (README: pip install sam2==1.1.0)")
fi
tune sam-vit-b-random

echo "== summary"
"$PYTHON" benchmarks/gpu_summary.py "${summary[@]}"
