"""One example per `orbit` command, shown at the end of its `--help`, and the one line each
command shows in its group's list where its docstring's first sentence is too long for it.

Kept in one table so that a test can hold every command to having an example; `attach`
puts them on the commands once they are all defined.
"""

import click

# Command path -> (the line in the group's list, or None for the docstring's; the example).
HELP: dict[tuple[str, ...], tuple[str | None, str]] = {
    (): (None, "orbit demo"),
    ("metrics",): (None, "orbit metrics list"),
    ("metrics", "add"): (
        None,
        "orbit metrics add --id stars --name 'GitHub stars' --template github-stars "
        "--config repo=dagster-io/dagster --config token_env=GITHUB_TOKEN",
    ),
    ("metrics", "update"): (None, "orbit metrics update stars --config value_path=stars"),
    ("metrics", "list"): (None, "orbit metrics list --json"),
    ("metrics", "show"): (None, "orbit metrics show demo-timeseries --points"),
    ("metrics", "delete"): (None, "orbit metrics delete stars"),
    ("refresh",): ("Refresh one metric (the job refresh_metric_job).",
                   "orbit refresh demo-timeseries --mode hard-refresh"),
    ("progress",): (None, "orbit progress demo-timeseries --json"),
    ("sync",): ("Mirror jobs, assets, schedules, sensors into the store.", "orbit sync"),
    ("demo",): ("Add and refresh the bundled samples; print points.", "orbit demo"),
    ("transformer",): (None, "orbit transformer show demo-timeseries"),
    ("transformer", "show"): (None, "orbit transformer show demo-timeseries --kind chart"),
    ("transformer", "run"): (None, "orbit transformer run --code t.py --input payload.json"),
    ("chart",): (None, "orbit chart demo-timeseries --png chart.png"),
    ("stats",): ("Run success rates, durations, failing and stale metrics.",
                 "orbit stats --since 7d"),
    ("documents",): ("Process documents (S3, Veryfi) and read the results.",
                     "orbit documents list"),
    ("documents", "submit"): (None, "orbit documents submit receipt.pdf --json"),
    ("documents", "list"): (None, "orbit documents list --json"),
    ("documents", "show"): (None, "orbit documents show 1"),
    ("runs",): ("Recent runs, newest first; show, retry one.",
                "orbit runs --metric demo-timeseries --status failure"),
    ("runs", "show"): (None, "orbit runs show RUN_ID"),
    ("runs", "retry"): (None, "orbit runs retry RUN_ID"),
    ("check-interrupted",): ("Runs that died without finishing.", "orbit check-interrupted"),
    ("recover",): ("Fail dead runs, release their metrics; resume them.",
                   "orbit recover --auto-resume"),
    ("resume",): ("Resume a run from where it stopped.", "orbit resume RUN_ID"),
    ("dagster-home",): ("Print the Dagster instance folder Orbit uses.",
                        "export DAGSTER_HOME=$(orbit dagster-home)"),
    ("lineage",): ("Sources, assets, tables, jobs, steps and their edges.",
                   "orbit lineage --json"),
}  # fmt: skip


def attach(root: click.Group) -> None:
    """Give each command its example (after any epilog it has) and its line in the list."""
    for path, (short, example) in HELP.items():
        command: click.Command = root
        for name in path:
            assert isinstance(command, click.Group)
            command = command.commands[name]
        line = f"\b\nExample: {example}"
        command.epilog = f"{command.epilog}\n\n{line}" if command.epilog else line
        if short is not None:
            command.short_help = short
