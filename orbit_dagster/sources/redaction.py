"""Redaction of secrets in anything a source logs or raises: URLs, headers and free text.

Two layers: known secret values (read from the environment for this fetch) are replaced
wherever they appear, in any common encoding, and credentials-shaped query parameters and
headers are masked by name, so a key typed into a URL by hand is not logged either.

`Redactor.text` is the one function every sink goes through (error messages, the request log,
excerpts of bodies, and through `Redactor.value` every string of a fetched payload, which a
run keeps between its steps); `Redactor.excerpt` redacts before it cuts, so a secret at the
cut cannot survive as a prefix.
"""

import base64
import binascii
import functools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

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
# Values shorter than this would mask ordinary text everywhere and are no real secret anyway.
MIN_SECRET_LENGTH = 4
# `Basic dXNlcjpwYXNz`, `Bearer abc`: an auth scheme and the credential after it.
AUTH_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]* +(\S+)$")


def is_sensitive_header(name: str) -> bool:
    lowered = name.lower()
    return lowered in SENSITIVE_HEADERS or any(part in lowered for part in SENSITIVE_HEADER_PARTS)


@dataclass(frozen=True)
class Redactor:
    """Masks the given secret values and credential-shaped parameters and headers."""

    secrets: tuple[str, ...] = ()

    def text(self, text: str) -> str:
        return self._pattern.sub(REDACTED, text) if self.secrets else text

    def value(self, value: Any) -> Any:
        """A decoded JSON value with every string (keys too) redacted, and any number that
        spells a secret replaced by the redacted text: the payload a run keeps between steps.

        One scan of the value's JSON decides; a value that holds no secret (the usual case)
        is returned as it is, without a copy.
        """
        if not self.secrets or not self._pattern.search(json.dumps(value)):
            return value
        return self._redact_value(value)

    def _redact_value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(str(k)): self._redact_value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._redact_value(item) for item in value]
        if isinstance(value, int | float) and not isinstance(value, bool):
            return REDACTED if self.text(str(value)) != str(value) else value
        return value

    def excerpt(self, raw: bytes | str, limit: int) -> str:
        """At most `limit` characters of `raw` as redacted text, marked when cut.

        The whole text is redacted before it is cut: cutting first would leave a secret that
        straddles the cut unrecognised, and shown but for its last characters.
        """
        text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
        redacted = self.text(text)
        if len(redacted) <= limit:
            return redacted
        return f"{redacted[:limit]}… [{len(redacted) - limit} more characters]"

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
        return Redactor(self.secrets + tuple(s for s in secrets if len(s) >= MIN_SECRET_LENGTH))

    @functools.cached_property
    def _pattern(self) -> re.Pattern[str]:
        # One alternation over every form of every secret, longest first, so that a secret
        # containing another is masked whole.
        forms = {form for secret in self.secrets for form in _forms(secret)}
        return re.compile("|".join(sorted(forms, key=len, reverse=True)))


def _forms(secret: str) -> set[str]:
    """Patterns for `secret`, what it stands for, and the ways they get written down."""
    values = {secret, *_derived(secret)}
    literal = {encoded for value in values for encoded in _base64_forms(value)}
    patterns = {_escaped_pattern(value) for value in values if len(value) >= MIN_SECRET_LENGTH}
    return patterns | {re.escape(form) for form in literal}


def _derived(secret: str) -> set[str]:
    """The credential inside an auth header value (`Basic X` → `X`) and, when that is the
    base64 of `user:password`, the pair and the password on their own."""
    found = set()
    scheme = AUTH_SCHEME.match(secret)
    credential = scheme.group(1) if scheme else secret
    found.add(credential)
    try:
        decoded = base64.b64decode(credential, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return found
    if ":" in decoded and decoded.isprintable():
        found.update({decoded, decoded.partition(":")[2]})
    return {value for value in found if len(value) >= MIN_SECRET_LENGTH}


def _base64_forms(value: str) -> set[str]:
    """Base64 of the value, and of it as either half of a basic-auth `user:password` pair,
    in the standard and URL-safe alphabets, with and without padding."""
    forms = set()
    for plain in (value, f"{value}:", f":{value}"):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            encoded = encode(plain.encode()).decode()
            forms.update({encoded, encoded.rstrip("=")})
    return {form for form in forms if len(form) >= MIN_SECRET_LENGTH}


def _escaped_pattern(value: str) -> str:
    """A pattern for `value` with any of its characters percent-encoded (either hex case, `+`
    for a space), JSON-escaped (`\\uXXXX`, `\\"`, `\\/`) or written as is: a token with `+`, `/`
    or `=` shows up as `%2B`, `%2F`, `%3D` in a logged URL and as `\\/` in some JSON."""
    return "".join(_char_pattern(char) for char in value)


def _char_pattern(char: str) -> str:
    literal = {char, json.dumps(char)[1:-1], json.dumps(char, ensure_ascii=False)[1:-1]}
    if char == "/":
        literal.add("\\/")
    options = [re.escape(form) for form in sorted(literal)]
    escaped = "".join(f"\\u{unit:04x}" for unit in _utf16_units(char))
    percent = "".join(f"%{byte:02x}" for byte in char.encode())
    options += [_any_hex_case(escaped), _any_hex_case(percent)]
    if char == " ":
        options.append(r"\+")
    return f"(?:{'|'.join(options)})"


def _utf16_units(char: str) -> list[int]:
    data = char.encode("utf-16-be")
    return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]


def _any_hex_case(text: str) -> str:
    return "".join(f"[{c.lower()}{c.upper()}]" if c in "abcdef" else re.escape(c) for c in text)
