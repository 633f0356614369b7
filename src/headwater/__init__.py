"""Headwater: reactive workflows with versioned artifacts and lineage recorded by the engine.

```python
from typing import Annotated
from headwater import task, workflow, Artifact, Inputs, ModelCard
import headwater

Model = Artifact(name="model", partition_keys=["region"])

@task
def train(region: str) -> Annotated[dict, Model(region=Inputs.region)]:
    return Model.create_from({"w": 1.0}, ModelCard("# My model"))

@workflow
def pipeline(region: str = "EU") -> dict:
    return train(region=region)

ex = headwater.run(pipeline)
print(headwater.lineage(headwater.get_artifact(Model.query(region="EU"))))
```

Importing is cheap: the engine, storage and type libraries load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from headwater.definitions.artifact import Artifact, ArtifactQuery, Inputs
from headwater.definitions.cards import DataCard, ModelCard
from headwater.definitions.entity import task, workflow
from headwater.definitions.image import ImageSpec
from headwater.definitions.launch_plan import LaunchPlan
from headwater.definitions.mapping import map
from headwater.definitions.names import Granularity
from headwater.definitions.triggers import (
    AllOf,
    AnyOf,
    ConcurrencyPolicy,
    CronSchedule,
    FixedRate,
    OnArtifact,
    OnEvent,
    OnFinish,
)
from headwater.engine.execute.context import current
from headwater.errors import (
    AuthError,
    ConflictError,
    DatabaseUnavailable,
    DefinitionError,
    ExecutionFailedError,
    HeadwaterError,
    MissingInputError,
    NoMatchError,
    NotFoundError,
    PartitionError,
    StorageError,
    StorageFull,
    TaskTimeoutError,
    TypeMismatchError,
    UserInputError,
)
from headwater.types.files import Directory, File

if TYPE_CHECKING:
    from headwater.client import (
        Event,
        activate,
        create_artifact,
        deactivate,
        emit_event,
        get_artifact,
        get_event,
        get_execution,
        lineage,
        list_events,
        list_executions,
        list_launch_plans,
        register,
        run,
        search_artifacts,
        wait_for,
    )
    from headwater.engine.publish.lineage import LineageGraph
    from headwater.handles import ArtifactVersion, Execution, ExecutionStatus
    from headwater.instance import Instance

__version__ = "0.1.0"

_LAZY = {
    "Event": "headwater.client",
    "activate": "headwater.client",
    "deactivate": "headwater.client",
    "emit_event": "headwater.client",
    "list_launch_plans": "headwater.client",
    "cancel": "headwater.client",
    "create_artifact": "headwater.client",
    "get_artifact": "headwater.client",
    "get_event": "headwater.client",
    "get_execution": "headwater.client",
    "lineage": "headwater.client",
    "list_events": "headwater.client",
    "list_executions": "headwater.client",
    "register": "headwater.client",
    "run": "headwater.client",
    "search_artifacts": "headwater.client",
    "wait_for": "headwater.client",
    "ArtifactVersion": "headwater.handles",
    "Execution": "headwater.handles",
    "ExecutionStatus": "headwater.handles",
    "LineageGraph": "headwater.engine.publish.lineage",
    "Instance": "headwater.instance",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'headwater' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
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
