"""Every `orbit` command's `--help` ends with an example, and `orbit --help` lists every
command on one whole line (no truncated description)."""

import re

import click
import pytest
from click.testing import CliRunner

from orbit_dagster.cli.main import cli


def command_paths(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [path]
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            paths += command_paths(command, (*path, name))
        else:
            paths.append((*path, name))
    return paths


@pytest.mark.parametrize("path", command_paths(cli), ids=lambda path: " ".join(path) or "orbit")
def test_every_help_has_an_example(path):
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert re.search(r"Examples?: .*\borbit ", result.output), result.output


def test_the_top_help_lists_every_command_on_one_whole_line():
    shown = CliRunner().invoke(cli, ["--help"], terminal_width=80).output
    listed = shown.split("Commands:\n")[1].split("\n\n")[0].splitlines()
    assert sorted(line.split()[0] for line in listed) == sorted(cli.commands)
    assert all(not line.endswith("...") and len(line) <= 80 for line in listed)
