"""README.md walked through as a new user would (issue 16): its ```sh blocks, in document
order, in one bash session, in a fresh copy of the checkout, with local servers standing in
for GitHub, Google Sheets and the JSON API the examples name.

Every ```sh block runs unless SKIPPED names it with the reason, so a block added to README is
walked too, and an entry below that no longer names a block fails the test. What runs differs
from what a reader types only by REWRITES (the venv, and hosts → the local fakes) and THEN
(commands after a block); both are listed here, and each must still apply.
"""

import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orbit_dagster_tests.documents.fixtures import document_servers, s3_server, sample_file
from orbit_dagster_tests.readme_walk import Block, sh_blocks, walk
from orbit_dagster_tests.sources.fake_apis import FakeApis, fake_apis

__all__ = ["document_servers", "s3_server"]  # fixtures the walk-through uses

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"

# Blocks not run, each named by a piece of its first line, and why.
SKIPPED = {
    ".venv/bin/python -m pytest": "the whole suite, this test included (Postgres, Redis, RabbitMQ)",
    "make dev": "starts the UI and the daemon, which run until stopped",
    "python -m bench.partition_sync": "benchmarks: minutes of both cores; `[--flag]` is optional",
    "orbit documents submit": "a synopsis (`[--json]`, ID_OR_SHA256) as much as commands",
    "export ORBIT_DATABASE_URL=postgresql://orbit@": "production: an `orbit` Postgres role and "
    "databases, and `dg dev` runs until stopped",
    "export ORBIT_EXECUTOR=celery": "production: a Redis broker, and the worker runs until stopped",
}

# What the copy runs instead of what README says; `{api}` is the fake APIs' base URL,
# `{receipt}` a document the test writes outside the checkout.
REWRITES = [
    # The copy's `.venv` is the project's venv (a symlink): nothing to create or install.
    ('python3 -m venv .venv && .venv/bin/pip install -q -e ".[dev]" && ', ""),
    # The GitHub and Sheets templates take `api_url` (GitHub Enterprise, a proxy): the fakes.
    ("--template github-commits", "--template github-commits --config api_url={api}"),
    ("--template github-stars", "--template github-stars --config api_url={api}"),
    ("https://github.example.com/api/v3", "{api}"),
    ("--template gsheets-values", "--template gsheets-values --config api_url={api}"),
    # The fake JSON API's route that pages with a `links.next` URL, as the example's config says.
    ("https://api.example.com/v1/orders", "{api}/api/cursor"),
    # The reader's own document; S3 and Veryfi are local (moto, veryfi_server), set in the env.
    ("/absolute/path/to/receipt.pdf", "{receipt}"),
]

# Commands run right after a block (named as in SKIPPED), as part of it.
THEN = {
    # `metrics add` only registers; a refresh of each sends the README's configs to the fakes.
    "export GITHUB_TOKEN=": "for metric in commits stars issues signups orders local; do\n"
    '  orbit refresh "$metric"\ndone\n',
}

# The README's credential placeholders (`export GITHUB_TOKEN=ghp_...` ...), which the fakes
# accept as the real services accept real ones: requests without them are refused.
GITHUB_TOKEN = "ghp_..."
SHEETS_API_KEY = "AIza..."
SPREADSHEET_ID = "1AbCdEfGhIjKlMnOp"

# Dagster's own notice that the CLI commands README documents (`dagster job execute`,
# `dagster asset materialize`, named by the users) are superseded by `dg launch`.
ALLOWED_WARNINGS = re.compile(
    r"SupersessionWarning: Function `(job_execute|asset_materialize)_command` is superseded"
)

# A walk costs about 75 s of CPU (a minute or two of wall time on 2 shared cores); this only
# stops a block that never ends.
TIMEOUT_SECONDS = 900
# A failing block's output shown, from its end (Dagster's debug log of one run is ~100 lines).
SHOWN_LINES = 40


def matching(blocks: list[Block], piece: str) -> list[Block]:
    return [block for block in blocks if piece in block.name]


def runnable(blocks: list[Block], **places: str) -> list[Block]:
    """The blocks to run, rewritten with `places` (`api`, `receipt`); fails on a SKIPPED,
    REWRITES or THEN entry gone stale."""
    for piece in [*SKIPPED, *THEN]:
        assert len(matching(blocks, piece)) == 1, f"{piece!r} names no single README block"
    for old, _ in REWRITES:
        assert any(old in block.code for block in blocks), f"rewrite {old!r} matches nothing"
    skipped = {block for piece in SKIPPED for block in matching(blocks, piece)}
    then = {matching(blocks, piece)[0]: code for piece, code in THEN.items()}
    chosen = []
    for block in blocks:
        if block in skipped:
            continue
        code = block.code
        for old, new in REWRITES:
            code = code.replace(old, new.format(**places))
        chosen.append(Block(block.line, code + then.get(block, "")))
    return chosen


def copy_checkout(target: Path) -> None:
    """The tracked files as they are in the working tree, and `.venv` → the running venv."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        if (ROOT / name).is_file():  # not a tracked file deleted in the working tree
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target / name)
    assert sys.prefix != sys.base_prefix, "the tests must run from the project's venv"
    (target / ".venv").symlink_to(sys.prefix)


def files_outside_data(root: Path) -> dict[str, str]:
    """Path → SHA-256 of every file in the copy but its `data/`, `.venv` and bytecode caches
    (Python writes those beside any checkout it imports; git ignores them)."""
    found = {}
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        if here == root:
            dirs[:] = [d for d in dirs if d not in ("data", ".venv")]
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in files:
            path = here / name
            found[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def new_user_env(checkout: Path, home: Path, exported: dict[str, str]) -> dict[str, str]:
    """A shell as a new user has it: no Orbit or Dagster variables (so the embedded SQLite
    store and instance under `data/` are used), HOME of its own, the venv not on PATH; and
    the variables README asks the reader to export (`exported`)."""
    venv_bin = (Path(sys.prefix) / "bin").resolve()
    path = [p for p in os.environ["PATH"].split(os.pathsep) if p and Path(p).resolve() != venv_bin]
    env = {
        "PATH": os.pathsep.join(path),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        # The venv's editable install imports the checkout these tests run from; the copy's
        # own package comes first, as it would after installing the copy.
        "PYTHONPATH": str(checkout),
        **exported,
    }
    if "TMPDIR" in os.environ:
        env["TMPDIR"] = os.environ["TMPDIR"]
    return env


def readme_services(apis: FakeApis) -> None:
    """The fakes serve what README's examples name: its credentials, branch and sheet id."""
    apis.github_token = GITHUB_TOKEN
    apis.sheets_key = SHEETS_API_KEY
    apis.branches["master"] = apis.branches["main"]
    apis.sheets[SPREADSHEET_ID] = apis.sheets["sheet123"]


def test_every_skip_rewrite_and_addition_names_a_readme_block():
    blocks = sh_blocks(README.read_text())
    chosen = runnable(blocks, api="http://127.0.0.1:1", receipt="/tmp/receipt.pdf")
    assert len(chosen) == len(blocks) - len(SKIPPED)
    assert not any("example.com" in block.code for block in chosen)


def test_the_readme_walk_through_runs_in_a_fresh_checkout(tmp_path, document_servers):
    checkout, home = tmp_path / "orbit", tmp_path / "home"
    home.mkdir()
    copy_checkout(checkout)
    before = files_outside_data(checkout)
    receipt = sample_file(tmp_path)  # the reader's own document, outside the checkout
    # "After exporting the variables above": S3 and Veryfi, as `document_servers` set them.
    exported = {k: v for k, v in os.environ.items() if k.startswith(("AWS_", "VERYFI_"))}
    env = new_user_env(checkout, home, exported)
    with fake_apis() as apis:
        readme_services(apis)
        blocks = runnable(sh_blocks(README.read_text()), api=apis.base_url, receipt=str(receipt))
        walked = walk(blocks, checkout, env, TIMEOUT_SECONDS, tmp_path)

    for w in walked:  # shown with -s, and beside a failure: where the walk spends its time
        print(f"{w.seconds or 0:6.1f} s  README line {w.block.line}: {w.block.name}")
    failures = [
        f"README block at line {w.block.line} `{w.block.name}`: {'; '.join(problems)}\n"
        + "\n".join(w.output.splitlines()[-SHOWN_LINES:])
        for w in walked
        if (problems := w.problems(ALLOWED_WARNINGS))
    ]
    assert not failures, "\n\n".join(failures)
    assert [w.block for w in walked] == blocks  # every block ran to its end
    # The README's configs reached the fakes: each template's request, with its credential.
    paths = {request.path for request in apis.requests}
    assert {
        "/repos/dagster-io/dagster/commits",
        "/repos/dagster-io/dagster",
        "/repos/my-org/app/issues",
        f"/v4/spreadsheets/{SPREADSHEET_ID}/values/Sheet1!A1:C",
        "/api/cursor",
    } <= paths, paths
    github = [r for r in apis.requests if r.path.startswith("/repos/")]
    assert all(r.headers.get("Authorization") == f"Bearer {GITHUB_TOKEN}" for r in github)
    # The document job uploaded the receipt and had Veryfi read it.
    assert document_servers.puts() == 1 and document_servers.veryfi.posts() == 1
    # Whatever the walk-through wrote is under data/: no file appeared, changed or went away.
    after = files_outside_data(checkout)
    changed = sorted(set(before.items()) ^ set(after.items()))
    assert not changed, f"the walk-through changed files outside data/: {changed}"
    assert (checkout / "data" / "refresh.yaml").is_file()


# The walker itself: a broken walk-through must fail, and name the block that broke.


def blocks_of(*codes: str) -> list[Block]:
    return [Block(line=index, code=code) for index, code in enumerate(codes, start=1)]


def test_a_failing_block_is_named_and_stops_the_walk(tmp_path):
    # `false && true` does not stop `set -e`; the block's own status still does.
    blocks = blocks_of("echo one\n", "echo two\nfalse && true\n", "echo three\n")
    walked = walk(blocks, tmp_path, {"PATH": os.environ["PATH"]}, 60, tmp_path)
    assert [(w.block.line, w.status) for w in walked] == [(1, 0), (2, 1)]
    assert walked[1].output == "two\n"
    assert walked[1].problems() == ["exited 1"]

    walked = walk(blocks_of("echo one\n", "cat missing\necho after\n"), tmp_path, {}, 60, tmp_path)
    assert walked[1].status == 1 and "after" not in walked[1].output


def test_a_warning_or_a_traceback_fails_a_block_that_exits_0(tmp_path):
    warn = "python3 -c 'import warnings; warnings.warn(\"careful\", FutureWarning)'\n"
    trace = (
        "python3 -c $'try:\\n  1/0\\nexcept ZeroDivisionError:\\n  import traceback\\n"
        "  traceback.print_exc()'\n"
    )
    walked = walk(blocks_of(warn, trace), tmp_path, {"PATH": os.environ["PATH"]}, 60, tmp_path)
    assert [w.status for w in walked] == [0, 0]
    assert walked[0].problems()[0].startswith("printed a warning: ")
    assert walked[0].problems(re.compile("FutureWarning: careful")) == []
    assert walked[1].problems() == ["printed a traceback"]


def running(pid: int) -> bool:
    try:
        return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False


def test_a_block_that_never_ends_is_named_and_killed_with_what_it_started(tmp_path):
    pid_file = tmp_path / "server.pid"
    blocks = blocks_of(f"sleep 300 &\necho $! > {pid_file}\nprintf started", "sleep 300\n")
    walked = walk(blocks, tmp_path, {"PATH": os.environ["PATH"]}, 2, tmp_path)
    assert walked[0].output == "started" and walked[0].status == 0
    assert walked[1].timed_out and walked[1].problems() == ["did not finish before the time limit"]
    pid = int(pid_file.read_text())
    # SIGKILL lands asynchronously: gone, or a zombie waiting for init to reap it, soon.
    deadline = time.monotonic() + 10
    while running(pid):
        assert time.monotonic() < deadline, "the block's background process outlived the walk"
        time.sleep(0.05)


@pytest.mark.parametrize(
    "markdown, expected",
    [
        (
            "```sh\necho a\n```\n```text\nnot run\n```\n~~~sh\necho b\n~~~\n",
            ["echo a\n", "echo b\n"],
        ),
        # A longer fence holds a shorter one: one block, as GitHub renders it.
        ("````sh\ncat <<'MD'\n```sh\nx\n```\nMD\n````\n", ["cat <<'MD'\n```sh\nx\n```\nMD\n"]),
        ("```shell\nno\n```\n```\nno\n```\n    ```sh\n    indented code\n", []),
    ],
)
def test_sh_blocks_follow_commonmark(markdown, expected):
    assert [block.code for block in sh_blocks(markdown)] == expected
