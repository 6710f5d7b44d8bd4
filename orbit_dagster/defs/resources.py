"""Every resource of the code location, configured from the environment through `dg.EnvVar`."""

import os
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
from dagster_openai import OpenAIResource
from pydantic import Field

from orbit_dagster import settings
from orbit_dagster.defs.documents.resources import document_resources
from orbit_dagster.defs.env import env_int, optional_env
from orbit_dagster.refresh.services import Model, Services
from orbit_dagster.store import Store
from orbit_dagster.transformers.pool import SandboxPool

DEFAULT_MODEL = "gpt-4o-mini"


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


class TransformerGeneration(dg.ConfigurableResource):
    """Who writes transformers: the `openai` resource's model (dagster-openai, any
    `base_url`) when `OPENAI_API_KEY` is set, else the built-in offline generator."""

    model: str | None = Field(
        default=None,
        description="Chat model name (ORBIT_OPENAI_MODEL); unset: the built-in generator.",
    )

    @contextmanager
    def services(
        self,
        context: dg.OpExecutionContext,
        openai: OpenAIResource,
        pool: SandboxPool | None = None,
    ) -> Iterator[Services]:
        """The refresh steps' services for one op: the model's client when configured."""
        if not self.model:
            yield Services(pool=pool)
            return
        with openai.get_client(context) as client:
            yield Services(model=Model(client=client, name=self.model), pool=pool)


@dg.definitions
def resources() -> dg.Definitions:
    # Read when the code location loads (not at import): the URL may carry a password, so it
    # goes through EnvVar and the UI shows the variable's name, never its value.
    database_url = optional_env("ORBIT_DATABASE_URL") or settings.default_database_url()
    refresh_settings = RefreshSettings(
        batch_size=env_int("ORBIT_BATCH_SIZE", 100),
        # A webhook URL often embeds a token: EnvVar keeps its value out of the UI.
        alert_webhook_url=optional_env("ORBIT_ALERT_WEBHOOK_URL"),
        ui_url=os.environ.get("ORBIT_UI_URL") or "http://127.0.0.1:3000",
    )
    api_key = optional_env("OPENAI_API_KEY")
    transformer_generation = TransformerGeneration(
        model=(os.environ.get("ORBIT_OPENAI_MODEL") or DEFAULT_MODEL) if api_key else None,
    )
    # Without a key no model is set and no request is ever made; the resource still needs a
    # value to exist. (Not nested in TransformerGeneration: Dagster 1.13's nested-resource
    # setup calls its own deprecated InitResourceContext.dagster_run.)
    openai = OpenAIResource(
        api_key=api_key or "not-configured", base_url=os.environ.get("OPENAI_BASE_URL")
    )
    return dg.Definitions(
        resources={
            "orbit_store": OrbitStore(database_url=database_url),
            "refresh_settings": refresh_settings,
            "transformer_generation": transformer_generation,
            "openai": openai,
            **document_resources(),
        }
    )
