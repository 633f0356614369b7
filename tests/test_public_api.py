"""The public surface is one sorted __all__, pinned here: changing it is a deliberate act."""

from __future__ import annotations

import subprocess
import sys

import headwater

EXPECTED = [
    "AllOf",
    "AnyOf",
    "Artifact",
    "ArtifactQuery",
    "ArtifactVersion",
    "AuthError",
    "ConcurrencyPolicy",
    "ConflictError",
    "CronSchedule",
    "DataCard",
    "DatabaseUnavailable",
    "DefinitionError",
    "Directory",
    "Event",
    "Execution",
    "ExecutionFailedError",
    "ExecutionStatus",
    "File",
    "FixedRate",
    "Granularity",
    "HeadwaterError",
    "ImageSpec",
    "Inputs",
    "Instance",
    "LaunchPlan",
    "LineageGraph",
    "MissingInputError",
    "ModelCard",
    "NoMatchError",
    "NotFoundError",
    "OnArtifact",
    "OnEvent",
    "OnFinish",
    "PartitionError",
    "StorageError",
    "StorageFull",
    "TaskTimeoutError",
    "TypeMismatchError",
    "UserInputError",
    "activate",
    "cancel",
    "create_artifact",
    "current",
    "deactivate",
    "emit_event",
    "get_artifact",
    "get_event",
    "get_execution",
    "lineage",
    "list_events",
    "list_executions",
    "list_launch_plans",
    "map",
    "register",
    "run",
    "search_artifacts",
    "task",
    "wait_for",
    "workflow",
]


def test_all_is_pinned_and_sorted():
    assert headwater.__all__ == EXPECTED
    assert sorted(headwater.__all__, key=lambda n: (n[0].islower(), n)) == headwater.__all__


def test_every_public_name_resolves_and_has_a_docstring():
    for name in headwater.__all__:
        obj = getattr(headwater, name)
        assert obj is not None, name
        if callable(obj):
            assert (obj.__doc__ or "").strip(), f"{name} has no docstring"


def test_import_is_light():
    code = (
        "import sys, headwater; heavy = [m for m in ('sqlalchemy', 'alembic', 'pandas', "
        "'pyarrow', 'numpy', 'fsspec', 'pydantic', 'cloudpickle', 'psycopg', 'dask', "
        "'distributed', 'concurrent.futures.process') "
        "if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
