"""``qtt-seg tune`` and ``qtt-seg predict``: the main job and applying its result."""

from __future__ import annotations

import logging
from pathlib import Path

import typer

from qtt_core.cli.output import err_console, print_json, stdout_console
from qtt_core.errors import UsageError


def _console_logging(quiet: bool, verbose: bool) -> None:
    from rich.logging import RichHandler

    logger = logging.getLogger("qtt_seg")
    handler = RichHandler(console=err_console, show_path=False, show_time=False)
    handler.setLevel(logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO)
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)


def tune(
    data: str = typer.Argument(..., help="A folder (images/ + masks/, optionally in train/ val/ test/) or a CSV/Parquet file with columns image,label."),
    budget: float = typer.Option(..., "--budget", help="Wall-clock seconds for the whole run, final evaluation included."),
    model: str = typer.Option("", help="Model to tune (see `qtt-seg plugins`; default: the installed plugins' default model)."),
    checkpoint: Path = typer.Option(None, help="Local checkpoint file of the model (default: its official weights)."),
    space: str = typer.Option(None, help="Search space name or YAML file (default: the model's space)."),
    classes: Path = typer.Option(None, help="Classes file (JSON): names, ids, colours, ignore value."),
    out: Path = typer.Option(None, help="Run folder (default: qtt-seg-runs/<model>-<time>); must be new unless --resume."),
    seed: int = typer.Option(0, help="Random seed (split, candidates, training)."),
    device: str = typer.Option("auto", help="auto, cpu, cuda or cuda:N."),
    precision: str = typer.Option("auto", "--precision", help="Training precision: auto (bf16 on CUDA that supports it, else fp16 on CUDA, fp32 on the CPU), fp32, bf16 or fp16 (CUDA only)."),
    prompt: str = typer.Option("box", "--prompt", help="How the model is prompted: box (one box per object from the ground truth, the paper's protocol; predict takes boxes) or none (the model segments from the image alone; compared with predicting the most frequent class, as the untuned model has no prompt-free output)."),
    resume: bool = typer.Option(False, "--resume", help="Continue a killed run in --out with the time that was left (its settings, but for --workers, --executor, --address, --device, --precision and the per-job resources, which come from this command)."),
    optimizer: str = typer.Option("quick", help="A registered optimiser (`qtt-seg plugins` lists them): quick, quick-nometa, random, portfolio, portfolio-nested, portfolio-lr-sched, or a plugin's."),
    meta_dataset: Path = typer.Option(None, "--meta-dataset", help="Meta-train the predictors on this meta-dataset first."),
    extractor: str = typer.Option("default", "--extractor", help="Meta-feature extractor (see `qtt-seg plugins`)."),
    surrogate: str = typer.Option(None, "--surrogate", help="Registered surrogates, comma-separated, one per kind (see `qtt-seg plugins`): the predictors --optimizer quick fits with --meta-dataset, or quick-nometa fits (default: dkl,gp-cost)."),
    predictors: Path = typer.Option(None, "--predictors", help="A folder of predictors `qtt-seg meta fit` wrote, fitted on this run's space (default: those the model's plugin ships)."),
    max_epochs: int = typer.Option(10, "--max-epochs", min=1, help="Most epochs any configuration is trained to."),
    candidates: int = typer.Option(256, "--candidates", min=1, help="Size of the candidate pool drawn from the space."),
    mask_suffix: str = typer.Option(None, "--mask-suffix", help="Mask name = image stem + this (e.g. _mask)."),
    images: str = typer.Option(None, "--images", help="Name of the image folder when it is not images/."),
    masks: str = typer.Option(None, "--masks", help="Name of the mask folder when it is not masks/."),
    invert: bool = typer.Option(False, "--invert", help="Binary masks mark the foreground with 0."),
    resize: str = typer.Option("error", "--resize", help="Image/mask size mismatch: error, mask_to_image or image_to_mask."),
    workers: int = typer.Option(1, "--workers", min=1, help="Trials trained at once (1: one after the other in this process)."),
    executor: str = typer.Option("local", "--executor", help="Where --workers run: local (threads of this process) or ray."),
    address: str = typer.Option(None, "--address", help="Ray cluster to join (auto or HOST:PORT); default: start a local Ray instance."),
    cpus_per_job: float = typer.Option(1.0, "--cpus-per-job", help="CPUs each Ray worker holds (its torch threads)."),
    gpus_per_job: float = typer.Option(0.0, "--gpus-per-job", help="GPUs each Ray worker holds (fractions share one)."),
    refit: bool = typer.Option(True, "--refit/--no-refit", help="Train the chosen configuration again on train + val pairs for the final model (when it fits in a quarter of the budget)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only warnings and the result."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log every detail."),
    as_json: bool = typer.Option(False, "--json", help="Print result.json on stdout."),
) -> None:
    """Tune a model to DATA within --budget seconds; writes a run folder with the tuned weights."""
    from qtt_core.tuner import tune as run_tune
    from qtt_core.tuner.clock import take_process_entry
    from qtt_core.tuner.progress import make_progress

    data_options = {
        "classes": str(classes) if classes else None, "mask_suffix": mask_suffix, "images": images,
        "masks": masks, "invert": invert, "resize": resize,
    }
    _console_logging(quiet or as_json, verbose)
    with make_progress(budget, quiet or as_json, console=err_console) as progress:
        result = run_tune(
            data, budget, out=out, resume=resume, progress=progress, started=take_process_entry(), model=model,
            checkpoint=str(checkpoint) if checkpoint else None, space=space, seed=seed, device=device, precision=precision, prompt=prompt,
            optimizer=optimizer, meta_dataset=str(meta_dataset) if meta_dataset else None,
            predictors=str(predictors) if predictors else None, extractor=extractor, surrogate=surrogate,
            max_epochs=max_epochs, n_candidates=candidates, workers=workers, executor=executor, address=address,
            cpus_per_job=cpus_per_job, gpus_per_job=gpus_per_job, refit=refit,
            data_options={k: v for k, v in data_options.items() if v not in (None, False, "error")},
        )
    if as_json:
        print_json(result.to_json())
        return
    _summary(result)


def _summary(result) -> None:
    def fmt(value):
        return "n/a" if value is None else f"{value:.4f}"

    refit = f", refit on {result.refit['pairs']} train + val pairs" if result.refit else ""
    name, reference, _ = result.reference
    stdout_console.print(
        f"[bold]test IoU {fmt(result.test_iou)}[/bold] ({name} {fmt(reference)}), "
        f"val IoU {fmt(result.val_iou)}, {result.n_trials} configurations in {result.elapsed_s:.1f} s "
        f"of {result.budget_s:.0f} s{refit}"
    )
    _class_table(result)
    stdout_console.print(f"report: {result.run_dir} (result.json, trials.csv, plots/, overlays/, weights/)")


def _class_table(result) -> None:
    """Test IoU and Dice per class, tuned next to zero-shot (box prompts) or the most-frequent-class
    baseline (no prompts), for runs with more than one class."""
    tuned = result.test_iou_per_class or {}
    if getattr(result, "prompt", "box") == "none":  # every run has the baseline's: the table needs the model's
        label, zero, names = "baseline IoU", result.baseline_test_iou_per_class or {}, list(tuned)
    else:
        label, zero = "zero-shot IoU", result.zero_shot_test_iou_per_class or {}
        names = list(tuned or zero)
    if len(names) < 2:
        return
    from rich.table import Table

    def fmt(value):
        return "-" if value is None else f"{value:.3f}"

    dice = result.test_dice_per_class or {}
    table = Table("class", "test IoU", label, "test Dice", title="per class (-: in neither masks nor predictions)")
    for name in names:
        table.add_row(name, fmt(tuned.get(name)), fmt(zero.get(name)), fmt(dice.get(name)))
    stdout_console.print(table)


def predict(
    run_dir: Path = typer.Argument(..., help="Folder of a finished `qtt-seg tune` run."),
    images: list[Path] = typer.Argument(..., help="Image files to segment."),
    out: Path = typer.Option(..., "--out", help="Folder for <stem>_mask.png and <stem>_overlay.png."),
    boxes: Path = typer.Option(None, "--boxes", help='JSON: {"image name": [[x0, y0, x1, y1(, class)], ...]}; default: whole image. A model tuned with --prompt none takes none.'),
    device: str = typer.Option("cpu", help="cpu, cuda or cuda:N."),
) -> None:
    """Segment new images with the tuned model of a run; never overwrites existing files."""
    from qtt_core.predict import check_boxes_allowed, predict_files
    from qtt_core.tuner import load_best, load_result

    targets = [out / f"{Path(i).stem}{suffix}" for i in images for suffix in ("_mask.png", "_overlay.png")]
    existing = [str(t) for t in targets if t.exists()]
    if existing:
        raise UsageError(f"{existing[0]} exists; choose an empty --out folder (nothing is overwritten)")
    missing = [str(i) for i in images if not Path(i).is_file()]
    if missing:
        raise UsageError(f"image {missing[0]} does not exist")
    prompt = load_result(run_dir).get("prompt", "box")  # runs of older versions: box
    check_boxes_allowed(prompt, boxes)  # before the model loads
    written = predict_files(load_best(run_dir, device=device), images, out, boxes, prompt=prompt)
    stdout_console.print(f"wrote {len(written)} masks and overlays to {out}")
