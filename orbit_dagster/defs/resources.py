"""Every resource of the code location, configured from the environment through `dg.EnvVar`."""

import os

import dagster as dg
from pydantic import Field

from orbit_dagster import settings
from orbit_dagster.store import Store


class OrbitStore(dg.ConfigurableResource):
    """Orbit's own records (metrics, points, transformers, step log) in SQLite or Postgres."""

    database_url: str = Field(
        description="SQLAlchemy URL of the Orbit store; from ORBIT_DATABASE_URL when set, "
        "else a SQLite file in the project's data folder."
    )

    def get_store(self) -> Store:
        return Store(self.database_url)


@dg.definitions
def resources() -> dg.Definitions:
    # Read when the code location loads (not at import): the URL may carry a password, so it
    # goes through EnvVar and the UI shows the variable's name, never its value.
    database_url = (
        dg.EnvVar("ORBIT_DATABASE_URL")
        if os.environ.get("ORBIT_DATABASE_URL")
        else settings.default_database_url()
    )
    return dg.Definitions(resources={"orbit_store": OrbitStore(database_url=database_url)})
