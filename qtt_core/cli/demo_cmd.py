"""``qtt-seg demo``: the whole job, offline, on a generated dataset and the embedded model.

By default it tunes twice, with box prompts and without (``--prompt both``), the budget split
evenly, so the demo shows both protocols and still takes the time of one run.
"""

from __future__ import annotations

import time
from pathlib import Path

import typer

from qtt_core.cli.output import err_console, stdout_console
from qtt_core.errors import UsageError

#: ``--prompt`` values of the demo and the runs each makes, in order
DEMO_PROMPTS = {"both": ("box", "none"), "box": ("box",), "none": ("none",)}
#: how the summaries name each run
RUN_TITLES = {"box": "with box prompts", "none": "without prompts"}


def demo(
    budget: float = typer.Option(90.0, "--budget", help="Seconds of tuning in all, split evenly between the runs (two with --prompt both)."),
    out: Path = typer.Option(None, "--out", help="Folder for the generated data and the runs (default: qtt-seg-demo-<time>)."),
    model: str = typer.Option("", help="Model to tune (default: the installed plugins' default model, which works offline)."),
    task: str = typer.Option("textured-binary", help="Generated task family for the dataset."),
    prompt: str = typer.Option("both", "--prompt", help="box (ground-truth boxes as prompts), none (no prompts), or both: one run each, into run-box/ and run-none/."),
    seed: int = typer.Option(0, help="Random seed."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only warnings and the result."),
) -> None:
    """Generate a small dataset, tune the offline default model on it, print where the reports are."""
    from qtt_core.cli.tune_cmd import _console_logging, _summary
    from qtt_core.demo import write_task_folder
    from qtt_core.tuner import tune
    from qtt_core.tuner.progress import make_progress

    prompts = _prompts(prompt)
    if not budget > 0:
        raise UsageError(f"--budget must be a positive number of seconds, got {budget}")
    registry, model = _supporting_model(model, prompts)
    out = out or Path(f"qtt-seg-demo-{time.strftime('%Y%m%d-%H%M%S')}")
    if out.exists() and any(out.iterdir()):
        raise UsageError(f"{out} exists and is not empty; choose another --out")
    boxes = out / "test-boxes.json" if "box" in prompts else None
    data = write_task_folder(task, out / "data", seed=seed, test_boxes=boxes)
    stdout_console.print(f"dataset: {data} (generated '{task}': train/val/test with images/ and masks/)")
    _console_logging(quiet, False)
    run_budget = budget / len(prompts)
    results = []
    with make_progress(run_budget, quiet, console=err_console) as progress:  # one panel, run after run
        for number, name in enumerate(prompts, start=1):
            progress.new_run(f"{RUN_TITLES[name]} ({number} of {len(prompts)})" if len(prompts) > 1 else RUN_TITLES[name], run_budget)
            results.append(tune(data, run_budget, out=out / f"run-{name}", model=model, seed=seed, prompt=name, progress=progress, registry=registry))
    for name, result in zip(prompts, results, strict=True):
        if len(prompts) > 1:
            stdout_console.print(f"[bold]{RUN_TITLES[name]}[/bold] (--prompt {name}):")
        _summary(result)
    for name, result in zip(prompts, results, strict=True):
        command = f"qtt-seg predict {result.run_dir} {data / 'test' / 'images'}/*.png --out {out / f'predictions-{name}'}"
        command += f" --boxes {boxes}" if name == "box" else ""
        stdout_console.print(f"next: {command}", soft_wrap=True, markup=False, highlight=False)  # one line, to copy


def _prompts(prompt: str) -> tuple[str, ...]:
    """The runs ``--prompt`` asks for."""
    if prompt not in DEMO_PROMPTS:
        raise UsageError(f"--prompt {prompt}: use {', '.join(DEMO_PROMPTS)}")
    return DEMO_PROMPTS[prompt]


def _supporting_model(model: str, prompts: tuple[str, ...]):
    """The registry and the model to tune; refused before anything is written when the model
    lacks a prompt protocol the demo needs."""
    from qtt_core.registry import Registry

    registry = Registry()
    model = model or registry.default_model()
    supported = registry.adapter_for(model).prompt_protocols()
    lacking = [name for name in prompts if name not in supported]
    if lacking:
        raise UsageError(f"{model} does not support --prompt {lacking[0]} (it supports {' and '.join(supported)}); run the demo with --prompt {supported[0]}")
    return registry, model
