"""`python -m orbit_dagster.cli` is the `orbit` command."""

from orbit_dagster.cli.main import cli

cli()
