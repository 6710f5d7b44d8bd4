"""How often the built-in generator gets the right series on the payload corpus, and how it fails
when it does not: a refusal (GenerationError, with its message) is acceptable, a WRONG series
(generated code that runs and saves other numbers than the hand-worked expected ones) is the
worst outcome, because it looks like success.

Run: `.venv/bin/python bench/transformer_quality.py [--only STEM]`.
Every case in `orbit_dagster_tests/transformers/corpus/` goes through `generate_ingestion_code`
and the real sandbox (one warm `SandboxPool`) twice: with its hints as given, and without hints
(name and description only; series may then be labelled by another field than the group_by
hint named, as long as they hold the same points). A case marked `xfail` passes when it is
refused naming the candidate hints. Prints, per mode, `P/N passed (X%)` and `wrong: W
refused: R`, then one row per case that did not pass. It always exits 0: it is a measurement,
not a test (`test_corpus.py` is the test).
"""

import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

import click

from orbit_dagster.transformers import (
    GenerationError,
    SandboxPool,
    TransformerError,
    generate_ingestion_code,
    run_ingestion,
)

CORPUS = Path(__file__).resolve().parent.parent / "orbit_dagster_tests/transformers/corpus"
MODES = ("hints", "no hints")
# A refusal of an undecidable case must say which hint would pick each candidate series.
CANDIDATE_HINTS = ("value_path=", "records_path=")


def outcome(case: dict[str, Any], hints: dict[str, Any], pool: SandboxPool) -> tuple[str, str]:
    """("right" | "refused" | "WRONG" | "error", a short reason) for one case in one mode."""
    started = dt.datetime.now(dt.UTC).replace(microsecond=0)
    try:
        code = generate_ingestion_code(
            case["payload"],
            template=case["template"],
            name=case["name"],
            description=case["description"],
            hints=hints or None,
        )
    except GenerationError as refusal:
        # An undecidable case has no expected points: naming the candidates is its right answer.
        # A case not done yet (xfail with expected points) scores its refusal as a refusal.
        undecidable = "xfail" in case and not case["expected"]
        if undecidable and any(hint in str(refusal) for hint in CANDIDATE_HINTS):
            return "right", "refused as expected"
        if undecidable:
            return "refused", f"refused without naming candidates: {refusal}"
        return "refused", str(refusal)
    except Exception as crash:  # a generator bug, not a decision: report it, keep scoring
        return "error", f"generator raised {type(crash).__name__}: {crash}"
    try:
        result = run_ingestion(code, case["payload"], pool=pool)
    except TransformerError as failure:
        return "error", f"generated code failed: {failure}"
    if "xfail" in case and not case["expected"]:
        return "WRONG", f"answered an undecidable case ({len(result.points)} points)"
    # Without its hints, a case whose hints named the group_by field may label its series
    # by another field that tells the same series apart (country.value for countryiso3code).
    relabel = bool(case["hints"]) and not hints
    return compare(case, result.points, result.skipped, started, relabel)


def compare(
    case: dict[str, Any],
    points: list[dict],
    skipped: dict[str, int],
    started: dt.datetime,
    relabel: bool = False,
) -> tuple[str, str]:
    expected = [dict(point) for point in case["expected"]]
    for index, point in enumerate(expected):
        if point["date"] == "$now" and index < len(points):
            moment = dt.datetime.fromisoformat(points[index]["date"])
            if started <= moment <= dt.datetime.now(dt.UTC):
                point["date"] = points[index]["date"]
    dates = [point["date"] for point in points]
    if dates != sorted(dates):
        return "WRONG", "points are not in time order"
    points, expected = canonical(points), canonical(expected)
    if points == expected and skipped == case["skipped"]:
        return "right", ""
    if relabel and series_of(points) == series_of(expected) and skipped == case["skipped"]:
        return "right", "same series, dimensions named differently"
    return "WRONG", difference(expected, points, case["skipped"], skipped)


def canonical(points: list[dict]) -> list[dict]:
    """Time order, and the series of one time by their dimensions (the generator may order
    dimension fields otherwise)."""
    return sorted(points, key=lambda p: (p["date"], sorted((p["dimensions"] or {}).items())))


def series_of(points: list[dict]) -> list[list[tuple[str, float]]]:
    """The (date, value) lists of each series, whatever its dimensions are called."""
    series: dict[str, list[tuple[str, float]]] = {}
    for point in points:
        key = json.dumps(point["dimensions"], sort_keys=True)
        series.setdefault(key, []).append((point["date"], point["value"]))
    return sorted(sorted(entries) for entries in series.values())


def difference(expected: list[dict], points: list[dict], want: dict, got: dict) -> str:
    """The first way the series differs, in a few words."""
    if len(points) != len(expected):
        first = points[0] if points else None
        return f"{len(points)} points, expected {len(expected)}; first {brief(first)}"
    for mine, theirs in zip(points, expected, strict=True):
        if mine != theirs:
            return f"got {brief(mine)}, expected {brief(theirs)}"
    return f"skipped {got}, expected {want}"


def brief(point: dict | None) -> str:
    if point is None:
        return "none"
    dims = f" {point['dimensions']}" if point["dimensions"] else ""
    return f"{point['date']}={point['value']:g}{dims}"


def short(text: str, width: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


@click.command()
@click.option("--only", default=None, help="Score only cases whose file stem contains this.")
def main(only: str | None) -> None:
    paths = sorted(CORPUS.glob("*.json"))
    cases = {path.stem: json.loads(path.read_text()) for path in paths}
    if only:
        cases = {stem: case for stem, case in cases.items() if only in stem}
    started = time.perf_counter()
    failures: list[tuple[str, str, str, str]] = []
    summary = []
    with SandboxPool(size=2) as pool:
        for mode in MODES:
            counts = {"right": 0, "WRONG": 0, "refused": 0, "error": 0, "xfail answered": 0}
            for stem, case in cases.items():
                hints = case["hints"] if mode == "hints" else {}
                result, reason = outcome(case, hints, pool)
                counts[result] += 1
                counts["xfail answered"] += "xfail" in case and result == "WRONG"
                if result != "right":
                    failures.append((stem, mode, result, reason))
            summary.append((mode, counts))
    total = len(cases)
    no_hint = sum(not case["hints"] for case in cases.values())
    xfail = sum("xfail" in case for case in cases.values())
    click.echo(
        f"corpus: {total} cases ({no_hint} without hints, {xfail} expected to be refused), "
        f"{time.perf_counter() - started:.1f} s"
    )
    for mode, counts in summary:
        percent = 100 * counts["right"] / total if total else 0.0
        errors = f"  error: {counts['error']}" if counts["error"] else ""
        click.echo(
            f"{mode:>9}: {counts['right']}/{total} passed ({percent:.0f}%)   "
            f"wrong: {counts['WRONG']} (of them xfail cases answered: "
            f"{counts['xfail answered']})  refused: {counts['refused']}{errors}"
        )
    if failures:
        click.echo("")
        width = max(len(stem) for stem, *_ in failures)
        click.echo(f"{'case':<{width}}  {'mode':<8}  {'outcome':<7}  reason")
        for stem, mode, result, reason in failures:
            click.echo(f"{stem:<{width}}  {mode:<8}  {result:<7}  {short(reason)}")


if __name__ == "__main__":
    main()
