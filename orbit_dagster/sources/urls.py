"""The URL check shared by the HTTP templates, run when a metric is added, and the test for a
value that looks like a credential.

A metric's config is stored in the database and shown in the UI and the step log, so a
credential written into it (`https://user:pass@host`, `?access_token=...`) is refused, with a
pointer to the ways of naming an environment variable instead.
"""

import re

import httpx

from orbit_dagster.sources.errors import SourceError
from orbit_dagster.sources.redaction import SENSITIVE_PARAMS

USE_ENV = "use token_env=VARIABLE (a Bearer token) or query.NAME=env:VARIABLE instead"
# Prefixes of well-known API credentials: GitHub, OpenAI-style, Google, Slack, GitLab, AWS.
KNOWN_PREFIXES = re.compile(r"^(gh[pousr]_|github_pat_|sk-|AIza|ya29\.|xox[abprs]-|glpat-|AKIA)")
# A long run of mixed-case letters and digits: the look of a generated key or token (a date,
# a SHA or a UUID has no upper and lower case letters together, so it is not mistaken).
TOKEN_SHAPED = re.compile(r"^(?=.*[a-z])(?=.*[A-Z])(?=.*\d)[A-Za-z0-9_\-+/=.~]{24,}$")


def looks_secret(value: str) -> bool:
    """Whether a literal config value looks like a credential."""
    return bool(KNOWN_PREFIXES.match(value) or TOKEN_SHAPED.match(value))


def check_url(url: str, *, key: str = "url") -> None:
    """Only absolute http(s) URLs (`file://` and friends would read the local machine), and
    no credential in them: not in user:password@, not in a query parameter."""
    try:
        parsed = httpx.URL(url) if "://" in url else None
    except httpx.InvalidURL:
        parsed = None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
        raise SourceError(f"{key} must be an absolute http(s) URL, got {_shown(url)!r}")
    if parsed.userinfo:
        raise SourceError(
            f"{key} must not carry a user name or password (user:password@host): it would be "
            f"stored with the metric; {USE_ENV}"
        )
    for name, value in parsed.params.multi_items():
        if value and (name.lower() in SENSITIVE_PARAMS or looks_secret(value)):
            raise SourceError(
                f"{key} has a credential in its query parameter {name!r}: it would be stored "
                f"with the metric; {USE_ENV}"
            )


def _shown(url: str) -> str:
    """The URL without the parts that may hold a credential (user:password@, the query)."""
    return re.sub(r"^([^/]*//)[^/@]*@", r"\1", url.partition("?")[0])
