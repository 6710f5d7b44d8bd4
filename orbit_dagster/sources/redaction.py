"""Redaction of secrets in anything a source logs or raises: URLs, headers and free text.

Two layers: known secret values (read from the environment for this fetch) are replaced
wherever they appear, and credentials-shaped query parameters and headers are masked by name,
so a key typed into a URL by hand is not logged either.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import httpx

REDACTED = "REDACTED"
SENSITIVE_PARAMS = frozenset(
    {"key", "api_key", "apikey", "access_token", "token", "auth", "password", "secret",
     "client_secret", "signature", "sig"}
)  # fmt: skip
SENSITIVE_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"}
)
# Header names with these parts carry credentials on many APIs (X-Auth-Token, Private-Token).
SENSITIVE_HEADER_PARTS = ("token", "secret", "key", "auth")


def is_sensitive_header(name: str) -> bool:
    lowered = name.lower()
    return lowered in SENSITIVE_HEADERS or any(part in lowered for part in SENSITIVE_HEADER_PARTS)


@dataclass(frozen=True)
class Redactor:
    """Masks the given secret values and credential-shaped parameters and headers."""

    secrets: tuple[str, ...] = ()

    def text(self, text: str) -> str:
        # Longest first, so a secret that contains another is masked whole.
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, REDACTED)
        return text

    def url(self, url: str | httpx.URL) -> str:
        parsed = httpx.URL(str(url))
        params = [
            (name, REDACTED if name.lower() in SENSITIVE_PARAMS else value)
            for name, value in parsed.params.multi_items()
        ]
        if parsed.password:
            parsed = parsed.copy_with(username=parsed.username, password=REDACTED)
        if params:
            parsed = parsed.copy_with(params=params)
        return self.text(str(parsed))

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        return {
            name: REDACTED if is_sensitive_header(name) else self.text(value)
            for name, value in headers.items()
        }

    def with_secrets(self, secrets: Iterable[str]) -> "Redactor":
        # Very short values would mask ordinary text everywhere and are no real secret anyway.
        return Redactor(self.secrets + tuple(s for s in secrets if len(s) >= 4))
