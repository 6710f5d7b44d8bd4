"""The code location loads without a warning: Dagster's own tools (`dagster job execute`,
`dagster dev`) print whatever warning loading it raises, in front of every user."""

import os
import subprocess
import sys

LOAD = (
    "from orbit_dagster.definitions import defs\n"
    "repository = defs().get_repository_def()\n"
    "print(len(repository.get_all_jobs()), 'jobs', len(repository.sensor_defs), 'sensors')\n"
)


def test_loading_the_location_as_dagster_does_prints_no_warning(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ORBIT_", "DAGSTER_"))}
    env["ORBIT_DATA_DIR"] = str(tmp_path)
    # `-W default`: every warning shown once, as Dagster's command line shows them.
    loaded = subprocess.run(
        [sys.executable, "-W", "default", "-c", LOAD],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert loaded.returncode == 0, loaded.stderr
    assert " sensors" in loaded.stdout  # the sensors were built: where the warning came from
    assert "Warning" not in loaded.stderr, loaded.stderr
