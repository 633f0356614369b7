"""Client mode's handles: the engine's ``Execution`` and ``ArtifactVersion`` built from the
wire models the server returns, whose lazy parts (``.nodes``, ``.produced``, ``.refresh()``,
``.cards``, blob-backed values) are fetched from the server."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from headwater import schemas
from headwater.definitions.cards import Card
from headwater.errors import NotFoundError, StorageError, UserInputError
from headwater.handles import ArtifactVersion, DecisionRecord, Execution, NodeExecution
from headwater.storage.blobs import BlobStore, check_key

if TYPE_CHECKING:
    from headwater.client.http import RemoteClient


class RemoteBlobs(BlobStore):
    """A read-only blob store reading ``GET /api/v1/blobs/{key}`` (decoding values locally).

    ``owner``: the query naming what the blobs belong to (``{"uri": ...}`` or
    ``{"execution": ...}``), which a token for one project needs."""

    def __init__(  # no local folder: skip BlobStore init
        self, remote: RemoteClient, owner: dict[str, str] | None = None
    ) -> None:
        self.url = remote.url + "/api/v1/blobs"
        self._local = None
        self._fs = None
        self._known = set()
        self._remote_client = remote
        self._owner = owner

    def get_bytes(self, key: str) -> bytes:
        check_key(key)
        data: bytes = self._remote_client.request(
            "GET", f"/blobs/{key}", params=self._owner, raw=True
        )
        return data

    def exists(self, key: str) -> bool:
        try:
            self.get_bytes(key)
        except (NotFoundError, StorageError):
            return False
        return True

    def put_bytes(self, data: bytes) -> str:
        raise UserInputError(
            "client mode (HEADWATER_API_URL) cannot store blobs on the server; publish JSON "
            "values, or run on the server's machine without HEADWATER_API_URL"
        )


class RemoteExecution(Execution):
    """An ``Execution`` read from the server; ``.refresh()``/``.wait()`` poll it."""

    def __init__(self, remote: RemoteClient, model: schemas.Execution) -> None:
        self._remote = remote
        self._entity = None
        self._blob_store = RemoteBlobs(remote, {"execution": model.id})
        self._apply(model)

    def _blobs(self) -> BlobStore:
        return self._blob_store

    def _apply(self, model: schemas.Execution) -> None:
        self._set_model(model)
        found = model.nodes
        self._nodes = None if found is None else [NodeExecution.from_model(n) for n in found]

    def _get(self, nodes: bool = False) -> schemas.Execution:
        params = {"nodes": True} if nodes else None
        body = self._remote.request("GET", f"/executions/{self.id}", params=params)
        return schemas.Execution.model_validate(body)

    @property
    def nodes(self) -> list[NodeExecution]:
        if self._nodes is None:
            self._apply(self._get(nodes=True))
        return list(self._nodes or [])

    @property
    def produced(self) -> list[ArtifactVersion]:
        found = self._remote.request("GET", f"/executions/{self.id}/produced")
        return [RemoteArtifactVersion(self._remote, version_model(v)) for v in found]

    def refresh(self) -> Execution:
        self._apply(self._get())
        return self


class RemoteArtifactVersion(ArtifactVersion):
    """An ``ArtifactVersion`` read from the server (``.id`` is 0: the row id is not exposed)."""

    def __init__(self, remote: RemoteClient, model: schemas.ArtifactVersion) -> None:
        self._remote = remote
        self._set_model(model)
        self.__dict__["cards"] = [Card.from_dict(c.model_dump()) for c in model.cards]
        self._blob_store = RemoteBlobs(remote, {"uri": self.uri})

    def _blobs(self) -> BlobStore:
        return self._blob_store

    @cached_property
    def cards(self) -> list[Card]:
        body = self._remote.request("GET", "/artifacts/get", params={"uri": self.uri})
        return [Card.from_dict(c.model_dump()) for c in version_model(body).cards]

    @property
    def producer(self) -> Execution | None:
        if self.execution_id is None:
            return None
        return self._remote.get_execution(self.execution_id)


@dataclass(frozen=True)
class ReplayedDecision(DecisionRecord):
    """A decision of ``RemoteClient.replay``: a ``DecisionRecord`` with its event's id."""

    event_id: str = ""

    @classmethod
    def from_replayed(cls, model: schemas.ReplayedDecision) -> ReplayedDecision:
        return cls(
            launch_plan=model.launch_plan,
            launch_plan_version=model.launch_plan_version,
            trigger=model.trigger,
            outcome=model.outcome,
            reason=model.reason,
            execution_id=model.execution_id,
            event_id=model.event_id,
        )


class Registered:
    """One registered entity (not a launch plan), as the server reported it."""

    def __init__(self, body: dict[str, Any]) -> None:
        self._body = body
        self.name: str = body["name"]
        self.kind: str = body["kind"]
        self.version: str = body["version"]
        self.project: str = body["project"]
        self.domain: str = body["domain"]

    def to_dict(self) -> dict[str, Any]:
        return dict(self._body)

    def __repr__(self) -> str:
        return f"<Registered {self.kind} {self.name}@{self.version}>"


def version_model(body: Any) -> schemas.ArtifactVersion:
    return schemas.ArtifactVersion.model_validate(body)
