"""Every resource of the code location, configured from the environment through `dg.EnvVar`."""

import os

import dagster as dg
from pydantic import Field

from orbit_dagster import settings
from orbit_dagster.defs.documents.resources import document_resources
from orbit_dagster.store import Store


class OrbitStore(dg.ConfigurableResource):
    """Orbit's own records (metrics, points, transformers, step log) in SQLite or Postgres."""

    database_url: str = Field(
        description="SQLAlchemy URL of the Orbit store; from ORBIT_DATABASE_URL when set, "
        "else a SQLite file in the project's data folder."
    )

    def get_store(self) -> Store:
        return Store(self.database_url)


class RefreshSettings(dg.ConfigurableResource):
    """How the sensors and schedules batch and announce metric refreshes."""

    batch_size: int = Field(
        default=100, gt=0, description="Metrics per batch run (ORBIT_BATCH_SIZE)."
    )
    alert_webhook_url: str | None = Field(
        default=None, description="Where failed runs are posted as JSON (ORBIT_ALERT_WEBHOOK_URL)."
    )
    ui_url: str = Field(
        default="http://127.0.0.1:3000", description="Base URL of the Dagster UI (ORBIT_UI_URL)."
    )


def _optional_env(name: str) -> dg.EnvVar | None:
    """EnvVar when the variable is set: Dagster fails a run on an EnvVar that is unset."""
    return dg.EnvVar(name) if os.environ.get(name) else None


@dg.definitions
def resources() -> dg.Definitions:
    # Read when the code location loads (not at import): the URL may carry a password, so it
    # goes through EnvVar and the UI shows the variable's name, never its value.
    database_url = _optional_env("ORBIT_DATABASE_URL") or settings.default_database_url()
    refresh_settings = RefreshSettings(
        batch_size=int(os.environ.get("ORBIT_BATCH_SIZE") or 100),
        # A webhook URL often embeds a token: EnvVar keeps its value out of the UI.
        alert_webhook_url=_optional_env("ORBIT_ALERT_WEBHOOK_URL"),
        ui_url=os.environ.get("ORBIT_UI_URL") or "http://127.0.0.1:3000",
    )
    return dg.Definitions(
        resources={
            "orbit_store": OrbitStore(database_url=database_url),
            "refresh_settings": refresh_settings,
            **document_resources(),
        }
    )
