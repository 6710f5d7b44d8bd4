"""Choosing the series a metric is about among every series found in its sample payload.

Each series becomes a `Candidate`: scored by how well its field or place matches the metric's
measure words (`matching`), given the aggregation and granularity that hints or the intent
say, and ranked by score, then size, then how plainly the structure alone makes it the value.
Two candidates that yield different points and that nothing tells apart are a refusal
(GenerationError naming each with the hint that picks it), never a guess.
"""

from dataclasses import dataclass, replace
from typing import Any

from orbit_dagster.transformers.builtin.intent import Intent, words_of
from orbit_dagster.transformers.builtin.matching import UNIT_WORDS, Match, match_field
from orbit_dagster.transformers.builtin.render import render_ingestion
from orbit_dagster.transformers.builtin.series import Series, get_path
from orbit_dagster.transformers.builtin.shapes import PLACE_DEPTH, ROLE_LIST_ITEMS
from orbit_dagster.transformers.builtin.tabular import column_names
from orbit_dagster.transformers.errors import GenerationError

# Scores closer than this do not tell two candidates apart.
CLOSE_SCORES = 0.1
# Counting events when the name asks for a count or a rate per period ("Orders per day") and
# no field is named: less than a noun naming a field (1.0), more than a modifier alone (0.5).
COUNT_SCORE = 0.9
# A field or place named after the metric's period ("daily" for "... per day").
PERIOD_BONUS = 0.3
PERIOD_WORDS = {
    "hour": {"hour", "hourly", "hours", "1h"},
    "day": {"day", "daily", "days", "1d"},
    "week": {"week", "weekly", "weeks", "1w"},
    "month": {"month", "monthly", "months"},
}
# Measures that are levels, not amounts: several in one period average or keep the last
# rather than add up.
AVERAGED_WORDS = frozenset(
    "temperature temp latency duration rate ratio percent humidity pressure speed".split()
)
LAST_WORDS = frozenset("close closing price balance stars followers supply cap".split())
SHOWN_CANDIDATES = 6
# Words of a list's key that say nothing of which list of names goes with it.
NAMELESS_WORDS = frozenset(
    "value values data rows row names name headers header entries entry f v".split()
)
# A field named only these words holds the count of records in its row (`doc_count`, `n`).
COUNT_WORDS = frozenset({"count", "counts", "n", "cnt"})
RECORD_WORDS = frozenset(
    "doc docs record records row rows event events item items hit hits".split()
)


@dataclass(frozen=True)
class Candidate:
    """A series with its aggregation and granularity settled, its score and why."""

    series: Series
    score: float
    reason: str
    first_word: int = 99  # the earliest measure word it matches (see `Match.first_word`)

    def hint(self) -> str:
        """The metric config that selects this candidate: `value_path=..., records_path=...`."""
        return ", ".join(f"{key}={value}" for key, value in self.series.hints) or "(none needed)"

    def describe(self) -> str:
        series = self.series
        what = series.measure or ("counting records" if series.counts else series.place or "")
        if series.measure_name is not None:
            what += f" ({series.measure_name})"
        dimensions = dict((name, value) for name, value, _ in series.constants).get("DIMENSIONS")
        if dimensions:
            what += f" by {', '.join(dimensions)}"
        return f"{what or 'the payload'} ({series.shape} at {series.place or 'top level'})"


@dataclass(frozen=True)
class Choice:
    """The chosen candidate, the runners-up (best first) and a note saying why."""

    chosen: Candidate
    runners_up: tuple[Candidate, ...]
    note: str


def choose(
    payload: Any, found: list[Series], intent: Intent, hints: dict[str, str], name: str
) -> Choice:
    """The candidate the metric is about; GenerationError when two are too close to call."""
    # Lists under date keys hold events by construction; records are judged by their dates.
    events = {
        series.place: series.shape == "mapping"
        or _are_events(payload, series, intent.granularity or "day")
        for series in found
        if series.counts
    }
    names = _name_lists(payload)
    found = [_named(series, names, payload) for series in found]
    # A name that names a field asks for that field per period, not for a count of records.
    asks_count = intent.aggregation == "count" or (
        intent.granularity is not None
        and intent.aggregation is None
        and not any(_match(series, intent).score for series in found if not series.counts)
    )
    candidates = [
        _candidate(payload, series, intent, hints, events, asks_count) for series in found
    ]
    eligible = [c for c in candidates if c.score > 0 or c.series.standing[0] < 2]
    if not eligible:
        # Only the name could have picked: the one number there is, else a refusal.
        eligible = [c for c in candidates if c.series.standing[0] < 9] or candidates
        if len(eligible) > 1:
            raise _refusal(name, eligible, "nothing in the name matches any of them")
    # Scores within CLOSE_SCORES of the best say the same; size and structure decide those.
    best = max(c.score for c in eligible)
    ranked = sorted(
        eligible,
        key=lambda c: (
            best - c.score >= CLOSE_SCORES,
            -c.score if best - c.score >= CLOSE_SCORES else 0,
            c.first_word,
            -c.series.size,
            _joined(c.series),
            c.series.standing,
            -c.score,
            candidates.index(c),
        ),
    )
    # The others are runners-up too, after those in the running: their hints still help.
    others = [c for c in candidates if c not in eligible and c.series.standing[0] < 9]
    chosen, rest = ranked[0], _distinct(payload, ranked + others)
    if rest and rest[0] in eligible and _too_close(chosen, rest[0]):
        why = (
            "the name matches none of them"
            if chosen.score == 0
            else "the name matches them equally"
        )
        raise _refusal(name, [chosen, *rest], why)
    return Choice(chosen, tuple(rest), _note(chosen, rest, intent))


def _candidate(
    payload: Any,
    series: Series,
    intent: Intent,
    hints: dict[str, str],
    events_at: dict[str, bool],
    asks_count: bool,
) -> Candidate:
    """The series with aggregation and granularity settled, scored against the intent.
    `events_at` says of each place of records whether they are events (see `_are_events`);
    `asks_count` whether the metric asks for a count of records (or of a count field)."""
    reasons = []
    events = events_at.get(series.place, False)
    match = Match(0.0, ())
    if series.counts:
        score = COUNT_SCORE if events and asks_count else 0.0
        if score:
            reasons.append("the name asks for a count or a rate per period of events")
        elif not events:
            # Counting rows that are already one per period would give 1 for each.
            series = replace(series, standing=(9, 0))
            reasons.append("the records are one per period: counting them would give 1s")
        elif intent.aggregation not in (None, "count"):
            # "Average order value" asks for a number of each record, not how many there are.
            series = replace(series, standing=(9, 0))
            reasons.append(f"the name asks for the {intent.aggregation} of a number")
        # Counted lists (objects keyed by date) give their lengths: those add up.
        aggregation = "sum" if series.shape == "mapping" else "count"
        granularity = intent.granularity or "day"
    else:
        match = _match(series, intent)
        score = match.score
        if match.matched:
            reasons.append(match.describe())
        if intent.granularity and PERIOD_WORDS[intent.granularity] & set(
            words_of(series.place + " " + (series.measure or ""))
        ):
            score += PERIOD_BONUS
            reasons.append(f"named for the {intent.granularity}")
        if not events and asks_count and _counts_per_period(series):
            score = max(score, COUNT_SCORE)
            reasons.append("a count per period, and the name asks for a count")
        aggregation = series.aggregation or _measured_aggregation(series, intent)
        granularity = intent.granularity if series.shape != "snapshot" else None
    series = replace(
        series,
        aggregation=hints.get("aggregation") or aggregation,
        granularity=hints.get("granularity") or granularity,
    )
    if not reasons:
        reasons.append(_plain_standing(series))
    first_word = 99 if series.counts or match.first_word is None else match.first_word
    return Candidate(series, round(score, 3), "; ".join(reasons), first_word)


def _name_lists(payload: Any) -> list[tuple[str, list[str]]]:
    """(path, names) of every list of column or metric names in the payload (GA4's
    `metricHeaders`, BigQuery's `schema.fields`, Plausible's `query.metrics`)."""
    found = []
    stack: list[tuple[str, Any]] = [("", payload)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, list) and (names := column_names(node)) is not None:
            found.append((path, names))
            continue
        items = node.items() if isinstance(node, dict) else []
        if isinstance(node, list) and len(node) <= ROLE_LIST_ITEMS:
            items = ((str(index), item) for index, item in enumerate(node))
        for key, value in items:
            if isinstance(value, dict | list) and path.count(".") < PLACE_DEPTH:
                stack.append((f"{path}.{key}" if path else str(key), value))
    return sorted(found)


def _named(series: Series, names: list[tuple[str, list[str]]], payload: Any) -> Series:
    """The series with the name that a list of names gives its value, when the value is read
    by position (`metricValues.1.value` is the second of `metricHeaders`: "sessions").

    The list of names has the length of the list of values (in the first record) and, of
    several such, the one whose key shares a word with the values' key."""
    parts = (series.measure or "").split(".")
    positions = [index for index, part in enumerate(parts) if part.isdigit()]
    if series.shape not in ("records", "table") or not positions or not names:
        return series
    index = positions[-1]
    if not set(words_of(".".join(parts[index + 1 :]))) <= NAMELESS_WORDS:
        return series  # the value has a name of its own (`zones.0.sum.requests`)
    first = ".".join([part for part in (series.place, "0") if part] + parts[:index])
    values = get_path(payload, first)
    if not isinstance(values, list):
        return series
    fitting = [(path, found) for path, found in names if len(found) == len(values)]
    owners = [*reversed(parts[:index]), series.place.rsplit(".", 1)[-1]]
    key_words = {_stem(word) for owner in owners for word in words_of(owner)} - NAMELESS_WORDS
    alike = [
        found
        for path, found in fitting
        if key_words & {_stem(word) for word in words_of(path.rsplit(".", 1)[-1])}
    ]
    chosen = alike[0] if len(alike) == 1 else fitting[0][1] if len(fitting) == 1 else None
    return series if chosen is None else replace(series, measure_name=chosen[int(parts[index])])


def _stem(word: str) -> str:
    return word[:-1] if word.endswith("s") else word


def _match(series: Series, intent: Intent) -> Match:
    """How well the series matches the metric's words; a table's every-column series matches
    when the name names several of its columns ("Signups and revenue")."""
    columns = dict((name, value) for name, value, _ in series.constants).get("VALUE_COLUMNS")
    if series.measure is None and columns and len(columns) > 1:
        matches = [match_field(column, intent) for column in columns]
        named = sorted((match for match in matches if match.score > 0), key=lambda m: -m.score)
        # Only when the name names several columns alike ("Signups and revenue"), not when
        # one column stands out ("Subscribers gained" over subscribersLost).
        if len(named) < 2 or named[0].score - named[1].score >= CLOSE_SCORES:
            return Match(0.0, ())
        words = tuple(word for match in named for word in match.matched)
        return Match(max(match.score for match in named) + CLOSE_SCORES, words)
    return match_field(_matched_path(series), intent)


def _matched_path(series: Series) -> str:
    # A field is judged by its own name, and its place when that name is generic (Umami's
    # `sessions` of `{x, y}`); a series without a field (pairs) by where it is.
    if series.measure_name is not None:
        return series.measure_name
    if series.measure is None:
        return series.place
    return f"{series.place}.{series.measure}" if series.place else series.measure


def _counts_per_period(series: Series) -> bool:
    """A field holding the count of records in its row (Elasticsearch's `doc_count`)."""
    words = set(words_of((series.measure or "").rsplit(".", 1)[-1]))
    return bool(words & COUNT_WORDS) and words <= COUNT_WORDS | RECORD_WORDS


def _measured_aggregation(series: Series, intent: Intent) -> str:
    if intent.aggregation in ("sum", "avg", "max", "min", "last"):
        return intent.aggregation
    # The metric's words, not the field's: "Revenue" read from `total_price` is still a sum.
    words = set(intent.measure_words)
    if words & LAST_WORDS:
        return "last"
    return "avg" if words & AVERAGED_WORDS else "sum"


def _plain_standing(series: Series) -> str:
    kind, _ = series.standing
    if series.shape == "snapshot":
        return "the only kind of number the payload has (no dated series)"
    return {
        0: "a generic value name" if series.measure else "every numeric column",
        1: "a number at the top of each entry" if not series.counts else "counting records",
    }.get(kind, "a nested number")


def _are_events(payload: Any, series: Series, granularity: str) -> bool:
    """Whether records are events (several in a period, or at other times than the starts of
    periods) rather than rows that are already one per period."""
    exact = preview(replace(series, aggregation="count", granularity=None), payload)
    per_period = preview(replace(series, aggregation="count", granularity=granularity), payload)
    # Weeks and months are judged by their days: APIs start weeks on Sunday or Monday.
    aligned = "hour" if granularity == "hour" else "day"
    starts = {
        point["date"]
        for point in preview(replace(series, aggregation="count", granularity=aligned), payload)
    }
    return any(point["value"] > 1 for point in per_period) or any(
        point["date"] not in starts for point in exact
    )


def preview(series: Series, payload: Any) -> list[dict[str, Any]]:
    """The points the generated code for `series` yields on `payload`, computed in-process.

    The code is the generator's own templates with constants written as literals (never text
    from the payload as code), so it is safe to run here; user or model code goes through the
    sandbox instead.
    """
    namespace: dict[str, Any] = {}
    exec(compile(render_ingestion(series, ""), "<builtin preview>", "exec"), namespace)
    return namespace["transform"](payload, {})["points"]


def _distinct(payload: Any, ranked: list[Candidate]) -> list[Candidate]:
    """The runners-up that yield other points than the chosen one (the same list reached
    through a wrapper, as Prometheus's one `result` and its `values`, is one candidate)."""
    chosen = preview(ranked[0].series, payload)
    seen = [chosen]
    rest = []
    for candidate in ranked[1:]:
        points = preview(candidate.series, payload)
        if points not in seen:
            seen.append(points)
            rest.append(candidate)
    return rest


def _joined(series: Series) -> bool:
    """Whether the series joins the lists of several groups (`result.*.values`): the groups'
    labels are lost, so a labelled reading of the same entries goes first."""
    return "*" in series.place.split(".")


def _too_close(first: Candidate, second: Candidate) -> bool:
    return (
        abs(first.score - second.score) < CLOSE_SCORES
        and first.first_word == second.first_word
        and first.series.size == second.series.size
        and _joined(first.series) == _joined(second.series)
        and first.series.standing == second.series.standing
    )


def _refusal(name: str, candidates: list[Candidate], why: str) -> GenerationError:
    listed = "; ".join(f"{c.describe()}: give {c.hint()}" for c in candidates[:SHOWN_CANDIDATES])
    more = len(candidates) - SHOWN_CANDIDATES
    return GenerationError(
        f"cannot tell which series the metric {name!r} is about: {why}. Candidates: {listed}"
        + (f"; and {more} more" if more > 0 else "")
    )


def _note(chosen: Candidate, rest: list[Candidate], intent: Intent) -> str:
    """One paragraph for the step log: what was chosen and why, and the alternatives."""
    series = chosen.series
    per = f" per {series.granularity}" if series.granularity else ""
    parts = [f"Chose {chosen.describe()}, {series.aggregation}{per}: {chosen.reason}."]
    if intent.reasons:
        parts.append(f"Read from the metric: {'; '.join(intent.reasons)}.")
    if chosen.score == 0 and intent.measure_words and not series.counts:
        unmatched = [w for w in intent.measure_words if w not in UNIT_WORDS]
        parts.append(
            f"Guess: no field matches {', '.join(unmatched) or 'the name'}; chose by structure."
        )
    if rest:
        listed = "; ".join(f"{c.describe()} [{c.hint()}]" for c in rest[:SHOWN_CANDIDATES])
        parts.append(f"Runners-up: {listed}.")
    return " ".join(parts)
