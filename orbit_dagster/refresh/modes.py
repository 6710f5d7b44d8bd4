"""The three refresh modes: what a refresh does with the transformers and points a metric has."""

from typing import Literal, get_args

Mode = Literal["create", "soft-refresh", "hard-refresh"]
MODES: tuple[str, ...] = get_args(Mode)
