"""Real-shaped payloads shipped with the package, so everything runs offline."""

from pathlib import Path

SAMPLES_DIR = Path(__file__).parent / "samples"

# name → (metric name, description) for `orbit demo`.
SAMPLES: dict[str, tuple[str, str]] = {
    "github_commits": ("GitHub commits", "Commits per day (GitHub list-commits response)"),
    "sheets_values": ("Sheet signups and revenue", "Rows of a Google Sheets values response"),
    "timeseries": ("Daily active users", "A plain JSON time series"),
}


def sample_path(name: str) -> Path:
    return SAMPLES_DIR / f"{name}.json"
