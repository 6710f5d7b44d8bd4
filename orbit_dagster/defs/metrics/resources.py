"""Resource types of the metric refresh; `defs/resources.py` configures them from the env."""

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol

import dagster as dg
from pydantic import Field

from orbit_dagster.refresh.transformer_tools import Model, TransformerTools
from orbit_dagster.transformers.pool import SandboxPool

DEFAULT_BATCH_SIZE = 100
DEFAULT_UI_URL = "http://127.0.0.1:3000"


class RefreshSettings(dg.ConfigurableResource):
    """How the sensors and schedules batch and announce metric refreshes."""

    batch_size: int = Field(
        default=DEFAULT_BATCH_SIZE, gt=0, description="Metrics per batch run (ORBIT_BATCH_SIZE)."
    )
    alert_webhook_url: str | None = Field(
        default=None, description="Where failed runs are posted as JSON (ORBIT_ALERT_WEBHOOK_URL)."
    )
    ui_url: str = Field(
        default=DEFAULT_UI_URL, description="Base URL of the Dagster UI (ORBIT_UI_URL)."
    )


class ModelClients(Protocol):
    """What the refresh needs of the `openai` resource (dagster-openai's `OpenAIResource`):
    a chat client for one op. Named by this protocol rather than by `OpenAIResource` so that
    the ops need not import dagster-openai, and with it openai (~0.5 s), in every process
    that loads the code location; only a code location with a model configures it."""

    def get_client(self, context: dg.OpExecutionContext) -> AbstractContextManager[Any]: ...


# The `openai` resource as the ops take it: None when no model is configured.
OpenAIParam = dg.ResourceParam[ModelClients | None]


class TransformerGeneration(dg.ConfigurableResource):
    """Who writes transformers: the `openai` resource's model (dagster-openai, any
    `base_url`) when `OPENAI_API_KEY` is set, else the built-in offline generator."""

    model: str | None = Field(
        default=None,
        description="Chat model name (ORBIT_OPENAI_MODEL); unset: the built-in generator.",
    )

    @contextmanager
    def tools(
        self,
        context: dg.OpExecutionContext,
        openai: ModelClients | None,
        pool: SandboxPool | None = None,
    ) -> Iterator[TransformerTools]:
        """The refresh steps' transformer tools for one op: the model's client when set.

        A model with no `openai` resource to reach it is refused, not replaced by the
        built-in generator: transformers would quietly come from another writer."""
        if not self.model:
            yield TransformerTools(pool=pool)
            return
        if openai is None:
            raise dg.Failure(
                description=f"transformer_generation names the model {self.model!r} but the "
                "`openai` resource is empty: set OPENAI_API_KEY, or unset the model to use the "
                "built-in generator",
                allow_retries=False,
            )
        with openai.get_client(context) as client:
            yield TransformerTools(model=Model(client=client, name=self.model), pool=pool)
