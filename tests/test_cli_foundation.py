"""The command line's first commands and its error contract (exit 2, one line)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from helpers import REPO_ROOT, run_cli
from qtt_core.registry import Registry
from qtt_core.space import count_valid_configurations


qtt = run_cli


def test_console_script_runs_as_a_program():
    out = subprocess.run([sys.executable, "-m", "qtt_core.cli.main", "space", "show", "nope"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and out.stderr.startswith("qtt-seg: error: unknown search space")


def test_plugins_json_lists_builtin_contributions():
    out = qtt("plugins", "--json")
    assert out.returncode == 0, out.stderr
    plugins = {p["name"]: p for p in json.loads(out.stdout)["plugins"]}
    builtin = plugins["qtt_core.builtin"]["contributes"]
    assert {"sam-lora", "qtt-seg-sam2"} <= set(builtin["search_spaces"])
    assert builtin["meta_feature_extractors"] == ["default"]


def test_plugins_json_lists_the_sam_adapter():
    plugins = {p["name"]: p for p in json.loads(qtt("plugins", "--json").stdout)["plugins"]}
    sam = plugins["qtt_sam.plugin"]
    assert sam["available"], sam["reason"]
    assert {"sam-vit-b", "sam-vit-l", "sam-vit-h", "sam-tiny"} <= set(sam["contributes"]["models"])


def test_space_show_json_reports_exact_size():
    out = qtt("space", "show", "sam-lora", "--json")
    assert out.returncode == 0, out.stderr
    description = json.loads(out.stdout)
    assert description["name"] == "sam-lora"
    assert description["size"] == count_valid_configurations(Registry(autoload=False).load_space("sam-lora"))
    assert description["size"] >= 200_000_000
    names = {hp["name"] for hp in description["hyperparameters"]}
    assert {"lr", "lora_rank", "sched", "loss", "batch_size"} <= names


def test_space_show_from_a_file():
    out = qtt("space", "show", str(REPO_ROOT / "search_spaces" / "qtt-seg-sam2.yaml"), "--json")
    assert out.returncode == 0 and json.loads(out.stdout)["size"] == 7_408_800


def test_unknown_space_exits_2_with_one_line_listing_known_spaces():
    out = qtt("space", "show", "nonexistent")
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
    assert "sam-lora" in out.stderr and "qtt-seg-sam2" in out.stderr


def test_space_sample_prints_valid_configurations():
    out = qtt("space", "sample", "qtt-seg-sam2", "-n", "3", "--seed", "1")
    configs = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(configs) == 3 and all("lr" in c for c in configs)


@pytest.mark.parametrize("args", [("space", "sample", "sam-lora", "-n", "0"), ("space", "show"), ("nosuchcommand",)])
def test_bad_usage_exits_2(args):
    out = qtt(*args)
    assert out.returncode == 2 and "Traceback" not in out.stderr


def test_help_shows_defaults():
    out = qtt("space", "sample", "--help")
    assert out.returncode == 0 and "default: 5" in out.stdout.replace("[", "").replace("]", "")


def test_the_readme_lists_every_option_of_every_command():
    """The Commands section of the README is the reference: an option missing there is undocumented."""
    import typer

    from qtt_core.cli.main import app

    readme = (REPO_ROOT / "README.md").read_text()
    commands = readme.split("## Commands", 1)[1].split("\n## ", 1)[0]

    def options(command, path: str):  # typer's own click: groups have ``commands``, options ``--`` names
        for name, sub in getattr(command, "commands", {}).items():
            yield from options(sub, f"{path} {name}")
        for parameter in command.params:
            names = [name for name in parameter.opts if name.startswith("--") and name != "--help"]
            if names:
                yield path, max(names, key=len)

    missing = [f"{path}: {option}" for path, option in options(typer.main.get_command(app), "qtt-seg") if option not in commands]
    assert not missing, missing
