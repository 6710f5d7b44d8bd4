"""The code location loads cleanly and defines exactly what we expect."""

import ast
import os
import subprocess
import sys
import warnings
from pathlib import Path

import dagster as dg
import pytest

import orbit_dagster
from orbit_dagster.documents.jobs import DOCUMENT_JOB
from orbit_dagster.refresh.jobs import BATCH_JOB, REFRESH_JOB
from orbit_dagster.settings import ConfigurationError

# The modules that may reach Dagster: the wiring (`defs/`), the entry point and
# `dagster_api/`, the one package the command uses to reach Dagster. Everything else in the
# package is plain Python, including any module added later.
DAGSTER_FACING = ("defs", "definitions.py", "dagster_api")


def test_definitions_load_without_deprecation_warnings(orbit_env):
    from orbit_dagster.definitions import defs

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        definitions = defs()
        for job in definitions.jobs or []:
            definitions.resolve_job_def(job.name)
    # No deprecated API anywhere; beta/preview only if our own code calls it. (Dagster
    # 1.13.27 itself warns that `owners` of SensorDefinition is beta whenever it copies a
    # sensor while resolving definitions: not ours to fix.)
    ours = [
        w
        for w in caught
        if issubclass(w.category, DeprecationWarning)
        or (
            issubclass(w.category, (dg.BetaWarning, dg.PreviewWarning))
            and "orbit_dagster" in w.filename
        )
    ]
    assert ours == [], [f"{w.filename}: {w.message}" for w in ours]

    asset_keys = {key.to_user_string() for key in definitions.resolve_all_asset_keys()}
    sources = {f"sources/{system}" for system in ("files", "http", "github", "googlesheets")}
    documents = {f"documents/{name}" for name in ("s3_bucket", "veryfi", "veryfi_documents")}
    assert asset_keys == {"metric_points", "metric_chart", "pipeline_health", *sources, *documents}
    graph = definitions.get_repository_def().asset_graph
    for key in ("metric_points", "metric_chart"):
        parents = {parent.to_user_string() for parent in graph.get(dg.AssetKey(key)).parent_keys}
        assert parents == sources  # the external systems are upstream of the metrics
    assert not any(graph.get(dg.AssetKey.from_user_string(s)).is_materializable for s in sources)
    check_keys = definitions.resolve_asset_graph().asset_check_keys
    assert {(key.asset_key.to_user_string(), key.name) for key in check_keys} == {
        ("metric_points", name)
        for name in (
            "has_points", "finite_values", "no_gaps", "no_jumps", "overlap_agrees", "fresh"
        )
    }  # fmt: skip
    refresh_job = definitions.resolve_job_def(REFRESH_JOB)
    assert isinstance(refresh_job.partitions_def, dg.DynamicPartitionsDefinition)
    assert refresh_job.partitions_def.name == "metric"
    assert refresh_job.executor_def.name == "in_process"
    assert "orbit_store" in (definitions.resources or {})


def test_refresh_job_has_the_nine_named_steps(definitions):
    job = definitions.resolve_job_def(REFRESH_JOB)
    ops = {node.name for node in job.graph.node_dict["metric_refresh"].definition.nodes}
    assert ops == {
        "fetch_api_data",
        "delete_old_data",
        "delete_old_transformer",
        "generate_ingestion_transformer",
        "execute_ingestion_transformer",
        "save_timeseries_data",
        "generate_chart_transformer",
        "execute_chart_transformer",
        "save_chart_config",
    }


def test_document_job_has_the_four_named_steps_with_retries(definitions):
    job = definitions.resolve_job_def(DOCUMENT_JOB)
    retries = {node.name: node.definition.retry_policy for node in job.graph.nodes}
    assert {name: p and p.max_retries for name, p in retries.items()} == {
        "upload_to_s3": 3,
        "veryfi_process": 2,
        "store_results": 2,
        "summary": 2,
    }
    assert all(p.backoff == dg.Backoff.EXPONENTIAL and p.jitter for p in retries.values())
    sensor = definitions.resolve_sensor_def("documents_inbox_sensor")
    assert sensor.job_name == DOCUMENT_JOB and "ORBIT_DOCUMENTS_INBOX" in sensor.description
    assert {"s3", "veryfi", "document_settings"} <= set(definitions.resources or {})


def test_the_metric_domain_alone_runs_the_same_metric_jobs(definitions):
    from orbit_dagster.definitions import metric_defs

    def shape(job: dg.JobDefinition) -> dict:
        ops = {op.name: op.required_resource_keys for op in job.graph.iterate_op_defs()}
        checks = {key.name for key in job.asset_layer.asset_graph.asset_check_keys}
        return {"ops": ops, "checks": checks, "executor": job.executor_def.name}

    alone = metric_defs()
    for name in (REFRESH_JOB, BATCH_JOB):
        assert shape(alone.resolve_job_def(name)) == shape(definitions.resolve_job_def(name))
    assert len(shape(alone.resolve_job_def(REFRESH_JOB))["ops"]) >= 9


HEAVY_CLIENTS = ("dagster_aws", "boto3", "dagster_openai", "openai")


def heavy_clients_loaded(env: dict[str, str]) -> list[str]:
    """The heavy client packages a fresh interpreter has imported once it has loaded the
    metric domain's definitions (this test process has imported everything already)."""
    code = (
        "import sys; from orbit_dagster.definitions import metric_defs; "
        f"metric_defs().resolve_job_def({REFRESH_JOB!r}); "
        f"print(','.join(m for m in {HEAVY_CLIENTS!r} if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    ).stdout
    return [name for name in loaded.strip().split(",") if name]


def test_the_metric_domain_loads_no_heavy_client_it_does_not_use(orbit_env):
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    # Documents (boto3) are another domain; without a key no model is used (openai).
    assert heavy_clients_loaded(env) == []
    # With a key the model writes transformers, through dagster-openai.
    with_key = heavy_clients_loaded({**env, "OPENAI_API_KEY": "sk-test-not-a-real-key"})
    assert with_key == ["dagster_openai", "openai"]


def test_plain_packages_never_import_dagster():
    root = Path(orbit_dagster.__file__).parent
    plain = [
        path for path in root.rglob("*.py") if path.relative_to(root).parts[0] not in DAGSTER_FACING
    ]
    assert len(plain) > 50  # the walk found the package
    offenders = []
    for path in plain:
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path}: {n}" for n in names if n.split(".")[0].startswith("dagster")]
            offenders += [f"{path}: {n}" for n in names if n.startswith("orbit_dagster.defs")]
    assert offenders == []


def test_each_refresh_step_shows_its_display_name_in_the_ui(orbit_env):
    from orbit_dagster.definitions import defs
    from orbit_dagster.refresh.table import STEPS

    job = defs().resolve_job_def(REFRESH_JOB)
    graph = next(node.definition for node in job.graph.nodes if node.name == "metric_refresh")
    assert isinstance(graph, dg.GraphDefinition)
    descriptions = {node.name: node.definition.description for node in graph.nodes}
    for step in STEPS:
        assert (descriptions[step.op_name] or "").startswith(f"{step.display_name} ({step.name}): ")


def test_the_batch_size_is_read_from_orbit_batch_size(orbit_env, monkeypatch):
    from orbit_dagster.definitions import defs

    monkeypatch.setenv("ORBIT_BATCH_SIZE", "7")
    resources = defs().resources
    assert resources is not None and resources["refresh_settings"].batch_size == 7
    monkeypatch.setenv("ORBIT_BATCH_SIZE", "0")
    with pytest.raises(Exception) as refused:
        defs()
    # Dagster wraps the loading error around ours, which names the variable and the rule.
    assert isinstance(refused.value.__cause__, ConfigurationError)
    assert str(refused.value.__cause__) == "ORBIT_BATCH_SIZE='0' is not a whole number above 0"
