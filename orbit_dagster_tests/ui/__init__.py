"""The Dagster UI in a real browser: dagster-webserver on 127.0.0.1 over an instance with a
refresh and `pipeline_health` runs, driven by Debian's headless Chromium through Playwright."""
