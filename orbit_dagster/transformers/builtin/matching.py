"""How well a field path matches a metric's measure words: shared words, common synonyms and
units, less for fields that look like identifiers or times.

`match_field("sum.pageViews", intent)` scores 1 per measure word found among the path's words
(0.6 through a synonym or an abbreviation, half for a modifier such as "max"), plus up to 0.5
for how much of the field's own name the words explain, so `temperature_2m_max` beats
`apparent_temperature_max` for "max temperature".
"""

from dataclasses import dataclass

from orbit_dagster.transformers.builtin.intent import Intent, words_of

# Words that mean the same measure in different APIs; each group is one meaning.
SYNONYM_GROUPS = (
    {"revenue", "amount", "total", "price", "sales", "income", "gmv", "earnings", "money"},
    {"signups", "signup", "registrations", "registration", "users", "accounts", "joined"},
    {"stars", "star", "stargazers", "stargazer"},
    {"visitors", "visitor", "visits", "visit", "users", "uniques", "unique"},
    {"pageviews", "views", "pageview", "page", "hits"},
    {"requests", "request", "hits", "calls"},
    {"downloads", "download", "installs"},
    {"temperature", "temp"},
    {"precipitation", "rain", "rainfall"},
    {"close", "closing", "price"},
    {"latency", "response", "duration", "elapsed"},
    {"errors", "error", "failures", "failed"},
    {"followers", "follower", "subscribers"},
    {"forks", "fork"},
    {"issues", "issue", "bugs"},
    {"questions", "question", "posts"},
    {"sessions", "session"},
    {"orders", "order", "purchases", "transactions"},
    {"volume", "volumes"},
    {"cap", "caps", "capitalization", "capitalisation"},
    {"bytes", "bandwidth", "traffic"},
    {"max", "maximum", "high", "highest", "peak"},
    {"min", "minimum", "low", "lowest"},
    {"avg", "average", "mean"},
    {"coverage", "covered"},
)
SYNONYMS = {
    word: set().union(*(g for g in SYNONYM_GROUPS if word in g))
    for g in SYNONYM_GROUPS
    for word in g
}
# Words that give a unit or a kind of number, not what is measured; they neither count for a
# match nor against one ("response_time_ms" is all "response time").
UNIT_WORDS = frozenset(
    "ms msec millis seconds secs sec s us ns minutes min mins usd eur gbp pct percent nb "
    "count counts num total bytes kb mb gb c f celsius fahrenheit mm cm km kmh kph mph".split()
)
# Words that mark a number as an identifier, a position or a time rather than a measure.
IDENTIFIER_WORDS = frozenset(
    "id ids uuid pk key index idx number no page pages offset limit per cursor timestamp ts "
    "epoch time date version revision rank".split()
)
# Field names that say nothing of what is measured, so their parents name it.
GENERIC_WORDS = frozenset("value values val count sum avg mean total amount number v y".split())
SYNONYM_WEIGHT = 0.6
MODIFIER_WEIGHT = 0.5
COVERAGE_WEIGHT = 0.5


@dataclass(frozen=True)
class Match:
    """How well one field matches the measure words, and the words that matched."""

    score: float
    matched: tuple[str, ...]
    # The earliest measure word matched: English puts the specific word first, so between
    # equal scores "unanswered" beats "questions" in "Unanswered questions".
    first_word: int | None = None

    def describe(self) -> str:
        return f"matches {', '.join(self.matched)}" if self.matched else "matches no word"


def match_field(path: str, intent: Intent) -> Match:
    """The match of the field at `path` (its last three parts) with the intent's words.

    The field's own name must match, unless it is generic (`revenue.value`): its parents
    only add to a match (`sum.requests` and `temperature.max` match, `commit.comment_count` is
    no "commits").
    """
    # Positions in lists name nothing: `values.0.value` is judged with what holds `values`.
    parts = [part for part in path.split(".") if not part.isdigit()] or [path]
    vocabulary = {_singular(word) for word in intent.measure_words}
    words = _split_compounds(words_of(".".join(parts[-3:])), vocabulary)
    own_name = set(_split_compounds(words_of(parts[-1]), vocabulary))
    field_words = {word for word in words if not word.isdigit()}
    if not field_words or not intent.measure_words:
        return Match(0.0, ())
    score, matched, explained = 0.0, [], set()
    first = None
    for order, measure in enumerate(intent.measure_words):
        weight = MODIFIER_WEIGHT if measure in intent.modifiers else 1.0
        word = _singular(measure)
        if word in field_words:
            score += weight
            matched.append(measure)
            explained.add(word)
            first = order if first is None else first
            continue
        related = {_singular(other) for other in SYNONYMS.get(measure, ())} & field_words
        related |= {other for other in field_words if _abbreviates(other, word)}
        if related:
            score += weight * SYNONYM_WEIGHT
            matched.append(f"{measure}~{min(related)}")
            explained |= related
            first = order if first is None else first
    initials = own_name & intent.initialisms
    if initials:
        # `dau` for "Daily active users": the whole name in one word.
        score += 1.0
        matched.append(f"initials {min(initials)}")
        explained |= initials
    if not matched or not (explained & own_name or own_name <= GENERIC_WORDS):
        return Match(0.0, ())
    # How much of the field's own name (its parents' when it is generic) the words explain,
    # units and digits aside.
    basis = field_words if own_name <= GENERIC_WORDS else own_name
    own = {
        word
        for word in basis
        if word not in UNIT_WORDS and word not in GENERIC_WORDS and not word[:1].isdigit()
    }
    if own:
        score += COVERAGE_WEIGHT * len(own & explained) / len(own)
    return Match(round(score, 3), tuple(matched), first)


def looks_like_identifier(path: str) -> bool:
    """A number that identifies, places or dates a record (`id`, `repo_id`, `page`, `year`)."""
    words = words_of(path.split(".")[-1])
    return bool(words) and (words[-1] in IDENTIFIER_WORDS or words[0] in ("id", "page"))


def _abbreviates(short: str, word: str) -> bool:
    """ "mag" for magnitude, "temp" for temperature, "precip" for precipitation."""
    return short != word and len(short) >= 3 and word.startswith(short)


def _split_compounds(words: list[str], vocabulary: set[str]) -> list[str]:
    """Singular words, with run-together ones split where both halves are known or abbreviate
    a known word (Visual Crossing's "tempmin" is "temp" and "min")."""
    split = []
    for word in map(_singular, words):
        for cut in range(3, len(word) - 2):
            head, tail = word[:cut], word[cut:]
            if _singular(tail) in vocabulary and any(
                head == known or _abbreviates(head, known) for known in vocabulary
            ):
                split += [head, _singular(tail)]
                break
        else:
            split.append(word)
    return split


def _singular(word: str) -> str:
    # Plural and singular forms match ("orders" ~ "order"); "ss" endings stay ("gross").
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word
