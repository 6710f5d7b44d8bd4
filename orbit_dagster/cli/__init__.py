"""The `orbit` command: manages metrics in the store and runs Dagster jobs for them."""
