"""Client mode: the public ``headwater`` functions over a Headwater server's HTTP API.

With ``HEADWATER_API_URL`` set (and ``HEADWATER_API_TOKEN`` when the server requires auth),
``headwater.get_artifact`` & co. call the server instead of the embedded instance. They hand
back the same handle classes (``Execution``, ``ArtifactVersion``, ``EventRecord``, ...), built
from the wire models (``headwater.schemas``) the responses are parsed into; their lazy parts
(``.nodes``, ``.produced``, ``.refresh()``, blob-backed values) are fetched from the server
(``headwater.client.remote_handles``). Errors map back to the same ``HeadwaterError`` classes;
401/403 raise ``AuthError``.

Inside ``Instance.use()`` (what the server's own routes do) calls stay embedded.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

import httpx

from headwater import errors as _errors
from headwater import schemas
from headwater.client.remote_handles import (
    Registered,
    RemoteArtifactVersion,
    RemoteBlobs,
    RemoteExecution,
    ReplayedDecision,
    version_model,
)
from headwater.definitions.artifact import ArtifactQuery
from headwater.definitions.cards import Card
from headwater.engine.publish.lineage import LineageGraph
from headwater.engine.publish.lineage import merge as merge_lineage
from headwater.engine.react.plan_decisions import DecisionPage
from headwater.engine.register.graph import MetaGraph
from headwater.engine.register.launch_plans import LaunchPlanInfo
from headwater.errors import (
    AuthError,
    ConflictError,
    HeadwaterError,
    NotFoundError,
    StorageError,
    UserInputError,
)
from headwater.handles import ArtifactVersion, EventRecord, Execution

API = "/api/v1"
TIMEOUT = httpx.Timeout(60.0, connect=10.0)


_BY_NAME: dict[str, type[HeadwaterError]] = {
    cls.__name__: cls
    for cls in vars(_errors).values()
    if isinstance(cls, type) and issubclass(cls, HeadwaterError)
}


def _error_for(response: httpx.Response) -> HeadwaterError:
    try:
        err = response.json().get("error", {})
        kind, message = str(err.get("type", "")), str(err.get("message", ""))
    except (ValueError, AttributeError):
        kind, message = "", response.text[:500]
    message = message or f"HTTP {response.status_code}"
    status = response.status_code
    if status in (401, 403):
        return AuthError(message, status)
    cls = _BY_NAME.get(kind)
    if cls is not None:
        return cls(message)
    if status == 404:
        return NotFoundError(message)
    if status == 409:
        return ConflictError(message)
    if 400 <= status < 500:
        return UserInputError(message)
    if status == 503:
        return StorageError(message)
    return HeadwaterError(f"server error {status}: {message}")


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, UTC).isoformat()
    return str(value)


def _event(body: Any) -> EventRecord:
    return EventRecord.from_model(schemas.Event.model_validate(body))


def _launch_plan(body: Any) -> LaunchPlanInfo:
    return LaunchPlanInfo.from_model(schemas.LaunchPlan.model_validate(body))


def _query_uri(query: Any) -> str:
    from headwater.settings import Settings

    settings = Settings.from_env()
    art = query.artifact
    project = query.project or art.project or settings.project
    domain = query.domain or art.domain or settings.domain
    parts = [f"{k}={_iso(v)}" for k, v in query.partitions.items()]
    if query.time_partition is not None:
        parts.append(f"time_partition={_iso(query.time_partition)}")
    return f"hw://{project}/{domain}/{art.name}" + ("?" + "&".join(parts) if parts else "")


class RemoteClient:
    """One keep-alive HTTP connection pool to a server, with the public client's calls."""

    def __init__(self, url: str, token: str | None = None) -> None:
        self.url = url.rstrip("/")
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.http = httpx.Client(base_url=self.url + API, headers=headers, timeout=TIMEOUT)
        self.blobs = RemoteBlobs(self)

    def close(self) -> None:
        self.http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json_body: Any = None,
        raw: bool = False,
    ) -> Any:
        # Encoded here with ASCII escapes: a lone surrogate travels as \udxxx and the server
        # refuses it naming the field (httpx would fail to encode it as UTF-8).
        content = None if json_body is None else json.dumps(json_body, allow_nan=False)
        headers = None if content is None else {"content-type": "application/json"}
        try:
            response = self.http.request(
                method, path, params=params, content=content, headers=headers
            )
        except httpx.HTTPError as exc:
            raise StorageError(
                f"cannot reach the Headwater server at {self.url} (HEADWATER_API_URL): {exc}"
            ) from None
        if response.status_code >= 400:
            raise _error_for(response)
        return response.content if raw else response.json()

    def _execution(self, body: Any) -> Execution:
        return RemoteExecution(self, schemas.Execution.model_validate(body))

    def _version(self, body: Any) -> ArtifactVersion:
        return RemoteArtifactVersion(self, version_model(body))

    # -- the public client's calls ------------------------------------------------------------
    def register(
        self, path_or_module: Any, project: str | None, domain: str | None, activate: Any
    ) -> Any:
        """Upload the code snapshot of a file or module; the server registers it."""
        from headwater.engine.register.registration import Registration, check_activate
        from headwater.engine.register.uploads import prepare_upload

        body = prepare_upload(path_or_module)
        body.update(project=project, domain=domain, activate=check_activate(activate))
        found = self.request("POST", "/registrations", json_body=body)
        items = [
            _launch_plan(r) if r.get("kind") == "launch_plan" else Registered(r)
            for r in found["registered"]
        ]
        return Registration(items, found.get("warnings", []))

    def set_active(self, name: str, version: str | None, active: bool) -> LaunchPlanInfo:
        if active:
            body = self.request(
                "POST", f"/launch-plans/{name}/activate", json_body={"version": version}
            )
        else:
            body = self.request("POST", f"/launch-plans/{name}/deactivate")
        return _launch_plan(body)

    def list_launch_plans(self, active_only: bool) -> list[LaunchPlanInfo]:
        found = self.request("GET", "/launch-plans", params={"active_only": active_only})
        return [_launch_plan(b) for b in found]

    def emit_event(
        self,
        name: str,
        payload: dict[str, Any] | None,
        *,
        id: str | None,
        source: str | None,
        project: str | None,
        domain: str | None,
    ) -> str:
        event = {"name": name, "payload": payload, "id": id, "source": source}
        event.update(project=project, domain=domain)
        body = {k: v for k, v in event.items() if v is not None}
        accepted = self.request("POST", "/events", json_body=body)
        return str(accepted["ids"][0])

    def get_artifact(self, ref: Any) -> ArtifactVersion:
        from headwater.definitions.artifact import Artifact, ArtifactQuery

        if isinstance(ref, ArtifactVersion):
            return ref
        if isinstance(ref, Artifact):
            ref = ref.query()
        if isinstance(ref, ArtifactQuery):
            ref = _query_uri(ref)
        if not isinstance(ref, str):
            raise UserInputError(
                f"cannot find an artifact version from {type(ref).__name__}; give an "
                "hw:// URI, an Artifact query or an ArtifactVersion"
            )
        return self._version(self.request("GET", "/artifacts/get", params={"uri": ref}))

    def search_artifacts(
        self,
        name: str | None,
        partitions: dict[str, Any] | None,
        since: Any,
        until: Any,
        limit: int,
        project: str | None,
        domain: str | None,
        *,
        time_from: Any = None,
        time_to: Any = None,
        text: str | None = None,
        latest: bool = False,
        offset: int = 0,
    ) -> list[ArtifactVersion]:
        params: dict[str, Any] = {"limit": limit}
        for key, value in (
            ("name", name),
            ("since", _iso(since)),
            ("until", _iso(until)),
            ("project", project),
            ("domain", domain),
            ("time_from", _iso(time_from)),
            ("time_to", _iso(time_to)),
            ("text", text),
        ):
            if value is not None:
                params[key] = value
        if latest:
            params["latest"] = "true"
        if offset:
            params["offset"] = offset
        if partitions:
            params["partition"] = [f"{k}={_iso(v)}" for k, v in partitions.items()]
        found = self.request("GET", "/artifacts", params=params)
        return [self._version(v) for v in found]

    def create_artifact(
        self,
        artifact: Any,
        value: Any,
        time_partition: Any,
        cards: list[Card] | None,
        partitions: dict[str, Any],
    ) -> ArtifactVersion:
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            raise UserInputError(
                f"client mode (HEADWATER_API_URL) publishes JSON values only; "
                f"{type(value).__name__} is not JSON — publish it from a workflow on the "
                "server, or without HEADWATER_API_URL"
            ) from None
        granularity = getattr(artifact, "granularity", None)
        body = {
            "name": artifact.name,
            "value": value,
            "partitions": {k: _iso(v) for k, v in partitions.items()},
            "time_partition": _iso(time_partition),
            "cards": [{"kind": c.kind, "text": c.text} for c in (cards or [])],
            "description": getattr(artifact, "description", "") or "",
            "partition_keys": list(getattr(artifact, "partition_keys", partitions)),
            "granularity": None if granularity is None else str(granularity.value),
        }
        return self._version(self.request("POST", "/artifacts", json_body=body))

    def get_execution(self, execution_id: str) -> Execution:
        return self._execution(self.request("GET", f"/executions/{execution_id}"))

    def list_executions(
        self,
        workflow: str | None,
        launch_plan: str | None,
        status: str | None,
        limit: int,
        project: str | None = None,
        domain: str | None = None,
        *,
        since: Any = None,
        until: Any = None,
        offset: int = 0,
    ) -> list[Execution]:
        params: dict[str, Any] = {"limit": limit}
        if offset:
            params["offset"] = offset
        for key, value in (
            ("workflow", workflow),
            ("launch_plan", launch_plan),
            ("status", status),
            ("project", project),
            ("domain", domain),
            ("since", _iso(since)),
            ("until", _iso(until)),
        ):
            if value is not None:
                params[key] = value
        return [self._execution(b) for b in self.request("GET", "/executions", params=params)]

    def relaunch(
        self,
        execution_id: str,
        inputs: dict[str, Any] | None = None,
        text_inputs: dict[str, str] | None = None,
    ) -> Execution:
        """Queue a repeat of an execution on the server (its workers run it): ``inputs``
        override as JSON values, ``text_inputs`` as ``-i k=v`` text that the server converts
        to the declared types. An ``ArtifactVersion`` or artifact query in ``inputs`` is sent
        as its version's URI. Returns the new, queued execution."""
        values = dict(inputs or {})
        for key, value in values.items():
            if isinstance(value, ArtifactQuery):
                value = self.get_artifact(value)
            if isinstance(value, ArtifactVersion):
                values[key] = value.uri
        body = {"inputs": values, "text_inputs": dict(text_inputs or {})}
        path = f"/executions/{quote(execution_id, safe='')}/relaunch"
        return self._execution(self.request("POST", path, json_body=body))

    def cancel(self, execution_id: str) -> Execution:
        """Cancel a queued or running execution on the server; returns it, now cancelled."""
        path = f"/executions/{quote(execution_id, safe='')}/cancel"
        return self._execution(self.request("POST", path))

    def replay(
        self,
        launch_plan: str,
        since: Any,
        until: Any = None,
        project: str | None = None,
        domain: str | None = None,
    ) -> list[ReplayedDecision]:
        """Deliver past events (``since`` <= time < ``until``; datetimes, ISO text or epoch
        seconds) again to one active launch plan on the server; returns its decisions."""
        body = {"launch_plan": launch_plan, "since": _iso(since), "until": _iso(until)}
        body.update(project=project, domain=domain)
        found = self.request("POST", "/events/replay", json_body=body)
        return [
            ReplayedDecision.from_replayed(schemas.ReplayedDecision.model_validate(d))
            for d in found
        ]

    def lineage(self, ref: Any, direction: str, depth: int | None) -> LineageGraph:
        found = list(self.lineage_pages(ref, direction, depth))
        return merge_lineage(found[0].root, direction, depth, found)

    def lineage_pages(
        self, ref: Any, direction: str, depth: int | None, page_nodes: int | None = None
    ) -> Iterator[LineageGraph]:
        """The server's lineage pages (about ``page_nodes`` nodes each; the server's default
        when None), one request each, following ``next_cursor``."""
        uri = ref.uri if isinstance(ref, ArtifactVersion) else self.get_artifact(ref).uri
        params: dict[str, Any] = {"uri": uri, "direction": direction}
        params["depth"] = "all" if depth is None else depth
        if page_nodes is not None:
            params["limit"] = page_nodes
        while True:
            page = schemas.Lineage.model_validate(
                self.request("GET", "/artifacts/lineage", params=params)
            )
            yield LineageGraph.from_model(page)
            if not page.next_cursor:
                return
            params["cursor"] = page.next_cursor

    def graph(self, project: str | None, domain: str | None) -> MetaGraph:
        params = {k: v for k, v in (("project", project), ("domain", domain)) if v is not None}
        return MetaGraph.from_model(
            schemas.Graph.model_validate(self.request("GET", "/graph", params=params))
        )

    def list_events(
        self,
        name: str | None,
        since: Any,
        limit: int,
        *,
        until: Any = None,
        source: str | None = None,
        project: str | None = None,
        before: int | None = None,
    ) -> list[EventRecord]:
        params: dict[str, Any] = {"limit": limit}
        for key, value in (
            ("name", name),
            ("since", _iso(since)),
            ("until", _iso(until)),
            ("source", source),
            ("project", project),
            ("before", before),
        ):
            if value is not None:
                params[key] = value
        return [_event(b) for b in self.request("GET", "/events", params=params)]

    def get_event(self, event_id: str, source: str | None = None) -> EventRecord:
        params = None if source is None else {"source": source}
        return _event(self.request("GET", f"/events/{quote(event_id, safe='')}", params=params))

    def launch_plan_decisions(
        self, name: str, project: str, domain: str, limit: int, before: int | None
    ) -> DecisionPage:
        params: dict[str, Any] = {"project": project, "domain": domain, "limit": limit}
        if before is not None:
            params["before"] = before
        path = f"/launch-plans/{quote(name, safe='')}/decisions"
        body = self.request("GET", path, params=params)
        return DecisionPage.from_model(schemas.PlanDecisions.model_validate(body))


_clients: dict[tuple[str, str | None], RemoteClient] = {}
_lock = threading.Lock()


def remote() -> RemoteClient | None:
    """The client for ``HEADWATER_API_URL``, or None: no URL set, or an instance is in use
    explicitly (``Instance.use()``, as in the server itself)."""
    from headwater.instance import in_use
    from headwater.settings import Settings

    if in_use() is not None:
        return None
    settings = Settings.from_env()
    if not settings.api_url:
        return None
    key = (settings.api_url, settings.api_token)
    with _lock:
        found = _clients.get(key)
        if found is None:
            found = _clients[key] = RemoteClient(settings.api_url, settings.api_token)
        return found
