"""What a fetch returns: the decoded payload (redacted), and a redacted, size-capped note for
the step log.

The note records what was requested and the first bytes of the raw response, as the API log
of the system Orbit replaces did, without letting a large response bloat the store.
"""

from dataclasses import dataclass
from typing import Any

# The step log keeps this much of a raw response; enough to see its shape when debugging.
EXCERPT_CHARACTERS = 2000


@dataclass(frozen=True)
class Fetched:
    # Decoded, with any secret the service echoed masked (`Redactor.value`).
    payload: Any
    # Redacted: what was fetched (requests, statuses, sizes) and an excerpt of the raw body.
    log: str
