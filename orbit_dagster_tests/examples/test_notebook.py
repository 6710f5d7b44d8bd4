"""`examples/metrics.ipynb` executed headless, cell by cell, as a person running it would: it
fails if any cell errors, and the run it makes is a real materialization of the partition."""

import nbformat
from nbclient import NotebookClient

from orbit_dagster import settings
from orbit_dagster.store import Store

NOTEBOOK = settings.PROJECT_ROOT / "examples" / "metrics.ipynb"


def test_the_notebook_runs_and_plots_the_metric(tmp_path, monkeypatch):
    monkeypatch.setenv("ORBIT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("ORBIT_DATABASE_URL", raising=False)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(notebook, timeout=180, kernel_name="python3", resources={
        "metadata": {"path": str(tmp_path)}}).execute()  # fmt: skip
    outputs = [output for cell in notebook.cells for output in cell.get("outputs", [])]
    assert not [output for output in outputs if output.get("output_type") == "error"]
    # The plot cell drew a picture; the points cell showed the series' last rows.
    assert any("image/png" in output.get("data", {}) for output in outputs)
    store = Store(f"sqlite:///{tmp_path / 'data' / 'orbit.sqlite3'}")
    assert store.count_points("notebook-timeseries") == 30
    assert (tmp_path / "data" / "dagster_home").is_dir()
