"""Every resource of the code location, configured from the environment through `dg.EnvVar`.

The resource types live with their domain (`metrics/resources.py`, `documents/resources.py`);
the store, which every domain uses, lives here. Values are read when the code location loads
(not at import): set variables become `dg.EnvVar`s, so the UI and the run storage keep the
variable's name, never its value (URLs and keys may carry secrets); unset ones fall back,
because Dagster fails a run on an EnvVar whose variable is unset.
"""

import os
from typing import Any

import dagster as dg
from pydantic import Field

from orbit_dagster import settings
from orbit_dagster.defs.metrics.resources import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_UI_URL,
    RefreshSettings,
    TransformerGeneration,
)
from orbit_dagster.defs.metrics.step_outputs import REFRESH_IO_MANAGER, StepOutputsIOManager
from orbit_dagster.store import Store

DEFAULT_MODEL = "gpt-4o-mini"


class OrbitStore(dg.ConfigurableResource):
    """Orbit's own records (metrics, points, transformers, step log) in SQLite or Postgres."""

    database_url: str = Field(
        description="SQLAlchemy URL of the Orbit store; from ORBIT_DATABASE_URL when set, "
        "else a SQLite file in the project's data folder."
    )

    def get_store(self) -> Store:
        return Store(self.database_url)


def optional_env(name: str) -> dg.EnvVar | None:
    return dg.EnvVar(name) if os.environ.get(name) else None


def env_int(name: str, default: int) -> int:
    return dg.EnvVar.int(name) if os.environ.get(name) else default


def metric_resources() -> dict[str, Any]:
    """The refresh's settings and the model that writes transformers."""
    api_key = optional_env("OPENAI_API_KEY")
    return {
        "refresh_settings": RefreshSettings(
            # The value itself, not an EnvVar: Dagster checks an `EnvVar.int` against the field's
            # `gt=0` as 0 at load, so any ORBIT_BATCH_SIZE failed the code location. A batch
            # size is no secret; a bad one fails the load, naming the variable.
            batch_size=settings.positive_int("ORBIT_BATCH_SIZE", DEFAULT_BATCH_SIZE),
            # A webhook URL often embeds a token: EnvVar keeps its value out of the UI.
            alert_webhook_url=optional_env("ORBIT_ALERT_WEBHOOK_URL"),
            ui_url=os.environ.get("ORBIT_UI_URL") or DEFAULT_UI_URL,
        ),
        "transformer_generation": TransformerGeneration(
            model=(os.environ.get("ORBIT_OPENAI_MODEL") or DEFAULT_MODEL) if api_key else None,
        ),
        # (Not nested in TransformerGeneration: Dagster 1.13's nested-resource setup calls its
        # own deprecated InitResourceContext.dagster_run.)
        "openai": openai_resource(api_key),
    }


def openai_resource(api_key: dg.EnvVar | None) -> Any:
    """dagster-openai's resource when a key is set; without one no model is used and the ops
    get None. Imported here, not at the top: openai costs ~0.5 s to import, which a code
    location writing transformers with the built-in generator never needs."""
    if api_key is None:
        return dg.ResourceDefinition.none_resource(
            description="No model: OPENAI_API_KEY is unset, so the built-in generator writes "
            "transformers."
        )
    from dagster_openai import OpenAIResource

    return OpenAIResource(api_key=api_key, base_url=os.environ.get("OPENAI_BASE_URL"))


def document_resources() -> dict[str, Any]:
    """S3, Veryfi and document settings; an unset variable stays None and the step names it."""
    # Imported here: dagster-aws (boto3) costs ~0.6 s to import, which a process that runs
    # only metric jobs never needs.
    from dagster_aws.s3 import S3Resource

    from orbit_dagster.defs.documents.resources import (
        DOCUMENT_IO_MANAGER,
        DocumentSettings,
        VeryfiResource,
    )
    from orbit_dagster.documents.checks import DEFAULT_MAX_BYTES
    from orbit_dagster.documents.veryfi import DEFAULT_BASE_URL, DEFAULT_TIMEOUT_MS

    return {
        # One retry layer only: Dagster's RetryPolicy on the op, not boto3's as well.
        "s3": S3Resource(
            region_name=optional_env("AWS_REGION"),
            endpoint_url=optional_env("AWS_ENDPOINT_URL"),
            aws_access_key_id=optional_env("AWS_ACCESS_KEY_ID"),
            aws_secret_access_key=optional_env("AWS_SECRET_ACCESS_KEY"),
            max_attempts=1,
        ),
        "veryfi": VeryfiResource(
            client_id=optional_env("VERYFI_CLIENT_ID"),
            username=optional_env("VERYFI_USERNAME"),
            api_key=optional_env("VERYFI_API_KEY"),
            client_secret=optional_env("VERYFI_CLIENT_SECRET"),
            api_base_url=optional_env("VERYFI_API_BASE_URL") or DEFAULT_BASE_URL,
            timeout_ms=env_int("VERYFI_TIMEOUT", DEFAULT_TIMEOUT_MS),
            send_file_url=os.environ.get("VERYFI_SEND_FILE_URL", "").lower() in ("1", "true"),
        ),
        "document_settings": DocumentSettings(
            bucket=optional_env("AWS_S3_BUCKET"),
            inbox=optional_env("ORBIT_DOCUMENTS_INBOX"),
            max_bytes=env_int("ORBIT_DOCUMENTS_MAX_BYTES", DEFAULT_MAX_BYTES),
        ),
        # Step outputs on disk in the instance's storage folder, so that re-execution from a
        # failed step can load them (execute_in_process would otherwise keep them in memory).
        DOCUMENT_IO_MANAGER: dg.FilesystemIOManager(),
    }


def store_resources() -> dict[str, Any]:
    """The Orbit store, which every domain uses, and the refresh state kept in it."""
    database_url = optional_env("ORBIT_DATABASE_URL") or settings.default_database_url()
    return {
        "orbit_store": OrbitStore(database_url=database_url),
        # The refresh state between ops, in the store rather than pickled on disk.
        REFRESH_IO_MANAGER: StepOutputsIOManager(database_url=database_url),
    }


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={**store_resources(), **metric_resources(), **document_resources()}
    )
