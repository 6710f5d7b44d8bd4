"""What a metric's name, description and template say it measures: the aggregation (count,
sum, avg, last, max, min), the granularity (hour, day, week, month) and the measure words
("Net revenue per day" measures "net" and "revenue", summed per day).

Deterministic word rules, no model: the reading is explained by `Intent.reasons`, and hints
always override it (the caller applies hints after reading the intent).
"""

import re
from dataclasses import dataclass

# Phrases naming a period, checked in this order (the first found wins).
GRANULARITY_PHRASES = (
    ("hour", r"hourly|per hour|an hour|each hour|every hour|by hour|/ ?h(ou)?r\b|\bhrs?\b"),
    ("day", r"daily|per day|a day|each day|every day|by day|/ ?day|\bdau\b|\bday\b|\bdays\b"),
    ("week", r"weekly|per week|a week|each week|every week|by week|/ ?w(ee)?k|\bwau\b|\bweek"),
    ("month", r"monthly|per month|a month|each month|every month|by month|/ ?mo(nth)?\b"),
)
# Words naming how values of one period combine, checked in this order.
AGGREGATION_PHRASES = (
    ("count", r"number of|count of|how many|# ?of|\bcount\b|\bnum\b"),
    ("avg", r"\baverage\b|\bavg\b|\bmean\b"),
    ("max", r"\bmax(imum)?\b|\bpeak\b|\bhighest\b|\bstrongest\b|\blargest\b|\bbiggest\b"),
    ("min", r"\bmin(imum)?\b|\blowest\b"),
    (
        "last",
        r"\blatest\b|\bcurrent\b|\bclose\b|\bclosing\b|\blast\b(?! (day|week|month|year|hour))",
    ),
    ("sum", r"\btotal\b|\bsum\b|\bnet\b|\bgross\b"),
)
# Words that only frame the metric; they name neither a field nor a period.
FRAMING_WORDS = frozenset(
    """a an the of per in on at by for from to and or with each every all new our my your
    its it this that number count how many daily weekly monthly hourly day days week weeks
    month months hour hours hr hrs dau wau mau metric metrics series chart graph data over
    time timeseries trend trends history historical api json http file github gsheets sheet
    sheets csv stats statistics report tracked track tracking value values""".split()
)
# Modifiers weigh less than nouns as measure words: "max temperature" is about temperature.
MODIFIER_WORDS = frozenset(
    "max maximum min minimum avg average mean total sum peak highest lowest "
    "latest current last unique".split()
)


@dataclass(frozen=True)
class Intent:
    """The reading of a metric's words; None where the words say nothing."""

    aggregation: str | None
    granularity: str | None
    measure_words: tuple[str, ...]  # nouns first, then modifiers, each once
    modifiers: frozenset[str]
    by_words: tuple[str, ...]  # what the series is split by: "Revenue by country" -> country
    reasons: tuple[str, ...]  # why, in words, for the step log
    # Initials of runs of the name's words: "Daily active users" names a field `dau`.
    initialisms: frozenset[str] = frozenset()


# The reading of a metric whose words say nothing (callers that have no name to give).
SILENT = Intent(None, None, (), frozenset(), (), ())


def read_intent(name: str, description: str = "", template: str = "") -> Intent:
    """The intent in the name, then the description (the name wins where both say something).

    The template gives measure words only when neither the name nor the description has
    any: it is a source kind ("github", "http-json"), which rarely names the measure.
    """
    texts = [_plain(name), _plain(description)]
    reasons = []
    granularity = aggregation = None
    for text, source in zip(texts, ("name", "description"), strict=True):
        if granularity is None:
            granularity, said = _first(GRANULARITY_PHRASES, text)
            if granularity:
                reasons.append(f"the {source} says {said!r}: per {granularity}")
        if aggregation is None:
            aggregation, said = _first(AGGREGATION_PHRASES, text)
            if aggregation:
                reasons.append(f"the {source} says {said!r}: {aggregation}")
    by_words = split_words(name) or split_words(description)
    if by_words:
        reasons.append(f"split by {', '.join(by_words)}")
    candidates = measure_words(name) or measure_words(description) or measure_words(template)
    words = tuple(word for word in candidates if word not in by_words)
    if words:
        reasons.append(f"measure words: {', '.join(words)}")
    modifiers = frozenset(word for word in words if word in MODIFIER_WORDS)
    named = [word for word in words_of(name) if word.isalpha()]
    initialisms = frozenset(
        "".join(word[0] for word in named[start : start + length])
        for length in (2, 3, 4)
        for start in range(len(named) - length + 1)
    )
    return Intent(aggregation, granularity, words, modifiers, by_words, tuple(reasons), initialisms)


def split_words(text: str) -> tuple[str, ...]:
    """The words after "by" or "per" that name fields rather than a period ("by host", "by
    status code and instance"), up to the next framing word."""
    words = words_of(text)
    split: list[str] = []
    for index, word in enumerate(words):
        if word not in ("by", "per", "each"):
            continue
        for following in words[index + 1 :]:
            if following in ("and", "or"):
                continue
            if following in FRAMING_WORDS:
                break
            split.append(following)
    return tuple(dict.fromkeys(split))


def measure_words(text: str) -> tuple[str, ...]:
    """The words of `text` that may name a field: nouns first, then modifiers."""
    words = [word for word in words_of(text) if word not in FRAMING_WORDS and len(word) > 1]
    nouns = [word for word in words if word not in MODIFIER_WORDS]
    return tuple(dict.fromkeys(nouns + [word for word in words if word in MODIFIER_WORDS]))


def words_of(text: str) -> list[str]:
    """Lower-case words of text or of a field path: snake_case, camelCase, dotted, spaced
    ("httpRequests1dGroups.sum.pageViews" -> http requests 1d groups sum page views)."""
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", str(text))
    spaced = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", spaced)
    return re.findall(r"[a-z]+[0-9]*[a-z]*|[0-9]+[a-z]*", spaced.lower())


def _plain(text: str) -> str:
    return " ".join(words_of(text)) + " " + str(text).lower()


def _first(phrases: tuple[tuple[str, str], ...], text: str) -> tuple[str | None, str]:
    for value, pattern in phrases:
        found = re.search(pattern, text)
        if found:
            return value, found.group(0).strip()
    return None, ""
