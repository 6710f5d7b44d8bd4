"""Store URLs as users write them: plain `postgresql://` works, and a server that cannot be
reached gives one line naming it, never the password."""

import pytest
import sqlalchemy as sa

from orbit_dagster.store import Store, StoreError


def test_plain_postgresql_url_uses_the_installed_driver(postgres_url):
    plain = sa.make_url(postgres_url).set(drivername="postgresql")
    for url in (plain, plain.set(drivername="postgres")):
        store = Store(url.render_as_string(hide_password=False))
        assert store.engine.dialect.driver == "psycopg2"
        store.add_metric(f"m-{url.drivername}", name="M", template="file")
        assert store.get_metric(f"m-{url.drivername}")["name"] == "M"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("postgresql://orbit:pa55-word@127.0.0.1:1/orbit", "Connection refused"),
        ("postgresql://postgres:pa55-word@127.0.0.1:5432/no_such_db", "does not exist"),
    ],
)
def test_an_unreachable_store_is_one_line_naming_the_server_not_the_password(url, reason):
    with pytest.raises(StoreError) as raised:
        Store(url)
    message = str(raised.value)
    assert message.startswith("cannot connect to the Orbit store at postgresql+psycopg2://")
    assert "@127.0.0.1:" in message and reason in message
    assert "pa55-word" not in message and "\n" not in message


def test_a_malformed_url_names_the_setting():
    with pytest.raises(StoreError, match="ORBIT_DATABASE_URL is not a database URL"):
        Store("not a url")
