"""The Python client: the same calls whether the engine is embedded or a server.

Every function works on the instance in use (``headwater.instance.get_instance()``), or, with
``HEADWATER_API_URL`` set (and ``HEADWATER_API_TOKEN`` when the server requires auth), on that
server over HTTP (``headwater.client.http``; its handles in ``headwater.client.remote_handles``,
built from the wire models of ``headwater.schemas``). ``run()`` always executes in this process,
so in client mode it refuses: register the workflow on the server and let a launch plan (or
``headwater executions relaunch``) run it there.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

from headwater.definitions.artifact import Artifact
from headwater.definitions.cards import Card
from headwater.definitions.entity import Entity
from headwater.definitions.storable import check_text as _check_text
from headwater.engine.execute import runner as _runner
from headwater.engine.publish import artifacts as _artifacts
from headwater.engine.publish import lineage as _lineage
from headwater.engine.publish.lineage import LineageGraph
from headwater.engine.react import events as _events_api
from headwater.engine.react import plan_decisions as _plan_decisions
from headwater.engine.register import graph as _graph
from headwater.engine.register import launch_plans as _launch_plans
from headwater.engine.register import plan_reads as _plan_reads
from headwater.engine.register import registry as _registry
from headwater.engine.register.graph import MetaGraph
from headwater.errors import NotFoundError, UserInputError
from headwater.handles import ArtifactVersion, EventRecord, Execution, ExecutionStatus
from headwater.instance import get_instance
from headwater.storage import events as _events
from headwater.storage import executions as _executions

ALL_PROJECTS = "*"  # ``project=`` value meaning every project (as for API tokens)


def active_remote() -> Any:
    """The HTTP client when ``HEADWATER_API_URL`` is set (and no instance is in use
    explicitly, as inside the server itself), else None: use the embedded instance."""
    from headwater.instance import in_use
    from headwater.settings import Settings

    if in_use() is not None or not Settings.from_env().api_url:
        return None
    try:
        from headwater.client import http
    except ModuleNotFoundError as exc:  # an install that skipped the dependency
        if exc.name != "httpx":
            raise
        raise UserInputError(
            "client mode (HEADWATER_API_URL is set) needs httpx: `pip install 'httpx>=0.27'` "
            "(reinstalling headwater installs it), or unset HEADWATER_API_URL"
        ) from None

    return http.remote()


def run(entity: Any, /, **inputs: Any) -> Execution:
    """Run a workflow (or a single task) as a recorded execution and return its handle::

        ex = headwater.run(train_wf, epochs=3)
        ex.status, ex.outputs["o0"]

    Inputs may be values, ``ArtifactVersion``s, ``hw://`` URIs or artifact queries. Bad input
    raises before anything is stored; a failure inside the workflow is recorded on the
    execution (``ex.status == "failed"``, ``ex.error["traceback"]``).
    """
    if not isinstance(entity, Entity):
        raise UserInputError(f"run() takes a @workflow or @task, got {type(entity).__name__}")
    if active_remote() is not None:
        raise UserInputError(
            "headwater.run() executes in this process, on the embedded instance; with "
            "HEADWATER_API_URL set (client mode) it is not available. Register the workflow on "
            "the server (headwater.register) and run it there: a launch plan trigger, or "
            "`headwater executions relaunch`; or unset HEADWATER_API_URL to run locally"
        )
    return _runner.execute(get_instance(), entity, inputs)


def register(
    path_or_module: str | Path | Any,
    project: str | None = None,
    domain: str | None = None,
    activate: bool | str | list[str] = False,
) -> list[Any]:
    """Register every task, workflow and launch plan of a file or module (each workflow also
    gets its default launch plan, named after it; a ``LaunchPlan.create(...)`` counts whether
    or not it is assigned to a variable)::

        headwater.register("pipelines/sales.py", activate=True)

    ``activate=True`` activates the launch plans that have a trigger or a schedule, ``"all"``
    every one, a list of names those plans. Returns the registered entities and launch plan
    versions, a list whose ``.warnings`` names triggers listening to names nothing declares.
    In client mode the file's code snapshot is uploaded; the server never imports a path."""
    remote = active_remote()
    if remote is not None:
        found: list[Any] = remote.register(path_or_module, project, domain, activate)
        return found
    from headwater.engine.register.registration import register_module

    module = (
        path_or_module
        if isinstance(path_or_module, ModuleType)
        else _registry.load_module(path_or_module)
    )
    return register_module(get_instance(), module, project, domain, activate)


def activate(launch_plan_name: str, version: str | None = None) -> Any:
    """Activate a launch plan version (the newest when None); other versions of it stop."""
    remote = active_remote()
    if remote is not None:
        return remote.set_active(launch_plan_name, version, True)
    return _launch_plans.set_active(get_instance(), launch_plan_name, version, active=True)


def deactivate(launch_plan_name: str) -> Any:
    """Deactivate a launch plan: its triggers and schedule stop firing."""
    remote = active_remote()
    if remote is not None:
        return remote.set_active(launch_plan_name, None, False)
    return _launch_plans.set_active(get_instance(), launch_plan_name, None, active=False)


def list_launch_plans(active_only: bool = False) -> list[Any]:
    """Every registered launch plan version, with whether it is active."""
    remote = active_remote()
    if remote is not None:
        return list(remote.list_launch_plans(active_only))
    return _launch_plans.list_launch_plans(get_instance(), active_only=active_only)


def launch_plan_versions(
    name: str, project: str | None = None, domain: str | None = None
) -> list[Any]:
    """Every version of one launch plan, newest first, with whether it is active (empty when
    there is no such plan); ``project``/``domain`` default to the configured ones."""
    for text, label in ((name, "launch plan"), (project, "project"), (domain, "domain")):
        _check_text(text, label)
    remote = active_remote()
    if remote is not None:
        project, domain = _scope(project, domain)
        found = remote.list_launch_plans(False)
        mine = [lp for lp in found if (lp.name, lp.project, lp.domain) == (name, project, domain)]
        return sorted(mine, key=lambda lp: lp.id, reverse=True)
    inst = get_instance()
    return _plan_reads.versions(inst, name, project or inst.project, domain or inst.domain)


def launch_plan_summaries(
    projects: list[str] | None = None, limit: int = 50, offset: int = 0
) -> list[_plan_reads.PlanSummary]:
    """Launch plan names (by project, domain, name), ``limit`` from ``offset``: each with its
    number of versions and its active version (else its newest). ``projects``: only those
    (None: every project)."""
    remote = active_remote()
    if remote is not None:
        by_name: dict[tuple[str, str, str], list[Any]] = {}
        for lp in remote.list_launch_plans(False):
            if projects is None or lp.project in projects:
                by_name.setdefault((lp.project, lp.domain, lp.name), []).append(lp)
        out = []
        for key in sorted(by_name)[offset : offset + limit]:
            versions = by_name[key]
            shown = next((v for v in versions if v.active), max(versions, key=lambda v: v.id))
            out.append(_plan_reads.PlanSummary(*key, len(versions), shown))
        return out
    return _plan_reads.summaries(get_instance(), projects, limit, offset)


def launch_plan_runs(
    plans: list[tuple[str, str, str]], per_plan: int = 3
) -> dict[tuple[str, str, str], list[_plan_reads.PlanRun]]:
    """The newest ``per_plan`` executions of each (project, domain, name) launch plan, among
    the instance's latest executions (``plan_reads.RECENT_SCAN``); a plan without any there is
    left out."""
    remote = active_remote()
    if remote is not None:
        out = {}
        for project, domain, name in plans:
            found = remote.list_executions(None, name, None, per_plan, project, domain)
            if found:
                out[(project, domain, name)] = [
                    _plan_reads.PlanRun(e.id, str(e.status), e.created_at) for e in found
                ]
        return out
    return _plan_reads.recent_runs(get_instance(), plans, per_plan)


def launch_plan_decisions(
    name: str,
    project: str | None = None,
    domain: str | None = None,
    limit: int = 20,
    before: int | None = None,
) -> _plan_decisions.DecisionPage:
    """The reactor's recent decisions about launch plan ``name`` (any version), newest first:
    for each event it listened to, fired (and the execution) or why not. ``.next_before``
    continues with older ones::

        page = headwater.client.launch_plan_decisions("nightly")
        [(d.event_id, d.outcome, d.reason) for d in page.decisions]
    """
    for text, label in ((name, "launch plan"), (project, "project"), (domain, "domain")):
        _check_text(text, label)
    _plan_decisions.check_page(limit, before)
    remote = active_remote()
    if remote is not None:
        project, domain = _scope(project, domain)
        return remote.launch_plan_decisions(name, project, domain, limit, before)
    inst = get_instance()
    return _plan_decisions.recent(
        inst, name, project or inst.project, domain or inst.domain, limit, before
    )


def _scope(project: str | None, domain: str | None) -> tuple[str, str]:
    """``project``/``domain``, or the configured ones (client mode)."""
    from headwater.settings import Settings

    settings = Settings.from_env()
    return project or settings.project, domain or settings.domain


def emit_event(
    name: str,
    payload: dict[str, Any] | None = None,
    *,
    id: str | None = None,
    source: str | None = None,
    project: str | None = None,
    domain: str | None = None,
) -> str:
    """Send a custom event; launch plans with a matching ``OnEvent`` react to it::

        headwater.emit_event("data.updated", {"table": "sales"}, id="load-2026-11-01")

    An event is identified by its ``source`` and ``id``: sent again with the same content it
    is the same event (stored once), with another payload (or name, subject, project,
    domain) a ``ConflictError``. Returns the event id.
    """
    remote = active_remote()
    if remote is not None:
        return str(
            remote.emit_event(name, payload, id=id, source=source, project=project, domain=domain)
        )
    return _events_api.emit(
        get_instance(), name, payload, id=id, source=source, project=project, domain=domain
    )


class Event:
    """An event to publish: ``Event("data.updated", {"table": "sales"}).publish()``."""

    def __init__(
        self,
        name: str,
        payload: dict[str, Any] | None = None,
        *,
        id: str | None = None,
        source: str | None = None,
        project: str | None = None,
        domain: str | None = None,
    ) -> None:
        self.name, self.payload, self.id, self.source = name, payload, id, source
        self.project, self.domain = project, domain

    def publish(self, payload: dict[str, Any] | None = None) -> str:
        """Send it; returns the event id. Errors raise."""
        body = {**(self.payload or {}), **(payload or {})}
        return emit_event(
            self.name,
            body,
            id=self.id,
            source=self.source,
            project=self.project,
            domain=self.domain,
        )

    def safe_publish(self, payload: dict[str, Any] | None = None) -> str | None:
        """Send it, but never raise: a failure is logged and None returned."""
        import logging

        try:
            return self.publish(payload)
        except Exception as exc:
            logging.getLogger("headwater").warning("event %r not published: %s", self.name, exc)
            return None


def get_artifact(ref: Any) -> ArtifactVersion:
    """An artifact version from an ``hw://`` URI (exact or query) or an ``Artifact.query()``."""
    remote = active_remote()
    if remote is not None:
        return remote.get_artifact(ref)
    return _artifacts.resolve(get_instance(), ref)


def search_artifacts(
    name: str | None = None,
    partitions: dict[str, Any] | None = None,
    since: Any = None,
    until: Any = None,
    limit: int = 100,
    project: str | None = None,
    domain: str | None = None,
    *,
    time_from: Any = None,
    time_to: Any = None,
    text: str | None = None,
    latest: bool = False,
    offset: int = 0,
) -> list[ArtifactVersion]:
    """Versions newest first; ``name`` may use ``*`` wildcards.

    ``since``/``until`` bound the creation time (``[since, until)``); ``time_from``/
    ``time_to`` the time partition (both inclusive; a date as ``time_to`` takes in that
    whole day); ``text``: every word appears in a card of the version (any case).
    ``latest=True`` keeps one version per (artifact, partitions, time partition): the newest
    that matches. ``offset`` skips that many results, for paging with ``limit``."""
    remote = active_remote()
    extra = {
        "time_from": time_from,
        "time_to": time_to,
        "text": text,
        "latest": latest,
        "offset": offset,
    }
    if remote is not None:
        return list(
            remote.search_artifacts(name, partitions, since, until, limit, project, domain, **extra)
        )
    return _artifacts.search(
        get_instance(), name, partitions, since, until, limit, project, domain, **extra
    )


def create_artifact(
    artifact: Artifact,
    value: Any,
    time_partition: Any = None,
    cards: list[Card] | None = None,
    **partitions: Any,
) -> ArtifactVersion:
    """Publish a version from outside any workflow::

    headwater.create_artifact(Daily, df, time_partition=date(2026, 11, 1), region="EU")
    """
    remote = active_remote()
    if remote is not None:
        return remote.create_artifact(artifact, value, time_partition, cards, partitions)
    return _artifacts.publish(
        get_instance(), artifact, value, time_partition=time_partition, cards=cards, **partitions
    )


def get_execution(execution_id: str) -> Execution:
    """An execution by id."""
    _check_text(execution_id, "execution id")
    remote = active_remote()
    if remote is not None:
        return remote.get_execution(str(execution_id))
    inst = get_instance()
    with inst.db.read() as tx:
        row = _executions.get_execution(tx, str(execution_id))
    if row is None:
        raise NotFoundError(
            f"no execution {execution_id!r}; list them with `headwater executions list`"
        )
    return Execution(inst, row)


def cancel(execution_id: str) -> Execution:
    """Cancel a queued or running execution: it ends ``cancelled`` at once, and a worker
    running it kills the process running its code (within a second). Raises ConflictError
    when it has already ended, NotFoundError when there is no such execution::

        headwater.cancel(ex.id)
    """
    remote = active_remote()
    if remote is not None:
        return remote.cancel(str(execution_id))
    from headwater.engine.execute import queue

    inst = get_instance()
    return Execution(inst, queue.cancel(inst, str(execution_id)))


def list_executions(
    workflow: Any = None,
    launch_plan: str | None = None,
    status: str | None = None,
    limit: int = 100,
    project: str | None = None,
    domain: str | None = None,
    *,
    since: Any = None,
    until: Any = None,
    offset: int = 0,
) -> list[Execution]:
    """Executions newest first, filtered by workflow (object or name), launch plan, status.

    Only the configured project's (``HEADWATER_PROJECT``) unless ``project`` names another,
    or is ``"*"`` for every project; ``domain`` narrows to one domain (default: any).
    ``since``/``until`` (datetime, date, ISO text or epoch seconds) keep those created in
    ``[since, until)``; ``offset`` skips the first ones (the next page)."""
    if isinstance(workflow, Entity):
        workflow = workflow.name
    _check_text(workflow, "workflow")
    _check_text(launch_plan, "launch plan")
    if status is not None:
        try:
            status = ExecutionStatus(str(status).lower()).value
        except ValueError:
            raise UserInputError(
                f"unknown status {status!r}; one of {', '.join(s.value for s in ExecutionStatus)}"
            ) from None
    remote = active_remote()
    if remote is not None:
        if project is None:
            from headwater.settings import Settings

            project = Settings.from_env().project
        return list(
            remote.list_executions(
                workflow,
                launch_plan,
                status,
                limit,
                project,
                domain,
                since=since,
                until=until,
                offset=offset,
            )
        )
    if offset < 0:
        raise UserInputError(f"offset must be 0 or more, got {offset!r}")
    since_ts = None if since is None else _artifacts.epoch_seconds(since)
    until_ts = None if until is None else _artifacts.epoch_seconds(until)
    inst = get_instance()
    scope = inst.project if project is None else None if project == ALL_PROJECTS else project
    with inst.db.read() as tx:
        found = _executions.list_executions(
            tx,
            workflow=workflow,
            launch_plan=launch_plan,
            status=status,
            project=scope,
            domain=domain,
            limit=limit,
            since=since_ts,
            until=until_ts,
            offset=offset,
        )
    return [Execution(inst, r) for r in found]


def lineage(
    uri_or_version: Any, direction: str = "both", depth: int | str | None = 3
) -> LineageGraph:
    """The lineage graph around a version, ``depth`` generations each way (``None`` or
    ``"all"``: every generation); ``print()`` it for a tree, ``.to_json()`` for JSON."""
    remote = active_remote()
    if remote is not None:
        return remote.lineage(uri_or_version, direction, _lineage.check_depth(depth))
    return _lineage.lineage(get_instance(), uri_or_version, direction, depth)


def lineage_pages(
    uri_or_version: Any, direction: str = "both", depth: int | str | None = None
) -> Iterator[LineageGraph]:
    """The same graph in pieces as it is walked (a generation at a time; in client mode a
    page of the HTTP API at a time), for graphs too large to hold at once. A node may come
    again in a later piece."""
    remote = active_remote()
    if remote is not None:
        return remote.lineage_pages(uri_or_version, direction, _lineage.check_depth(depth))
    return _lineage.pages(get_instance(), uri_or_version, direction, depth)


def graph(project: str | None = None, domain: str | None = None) -> MetaGraph:
    """The meta-workflow graph: workflows, the artifacts and events they produce or read, the
    launch plans listening to them and the workflows those start (from registrations and
    triggers), with the last run and recent failures of each workflow and launch plan, and
    ``.warnings`` about triggers listening to names nothing declares::

        print(headwater.client.graph())        # text; .to_dot(), .to_mermaid(), .to_dict()

    The configured project's (``HEADWATER_PROJECT``) unless ``project`` names another, or is
    ``"*"`` for every project; ``domain`` narrows to one domain (default: any)."""
    _check_text(project, "project")
    _check_text(domain, "domain")
    remote = active_remote()
    if remote is not None:
        if project is None:
            from headwater.settings import Settings

            project = Settings.from_env().project
        found: MetaGraph = remote.graph(project, domain)
        return found
    inst = get_instance()
    scope = inst.project if project is None else None if project == ALL_PROJECTS else project
    return _graph.build(inst, scope, domain)


def list_events(
    name: str | None = None,
    since: Any = None,
    limit: int = 100,
    *,
    until: Any = None,
    source: str | None = None,
    project: str | None = None,
    before: int | None = None,
) -> list[EventRecord]:
    """Stored events newest first: named ``name``, sent by ``source``, in ``project``, with
    ``since`` <= time < ``until`` (datetimes, dates or ISO text). ``before`` pages back: the
    events older than the one with that ``seq`` (the last of the previous page)."""
    _check_text(name, "name")
    _check_text(source, "source")
    _check_text(project, "project")
    remote = active_remote()
    if remote is not None:
        return list(
            remote.list_events(
                name, since, limit, until=until, source=source, project=project, before=before
            )
        )
    since_ts = None if since is None else _artifacts.epoch_seconds(since)
    until_ts = None if until is None else _artifacts.epoch_seconds(until)
    inst = get_instance()
    with inst.db.read() as tx:
        found = _events.list_events(
            tx,
            name=name,
            since=since_ts,
            until=until_ts,
            limit=limit,
            source=source,
            project=project,
            before_seq=before,
        )
    return [EventRecord(r) for r in found]


def get_event(event_id: str, source: str | None = None) -> EventRecord:
    """An event by id, with the reactor's decisions about it (``.decisions``): which launch
    plans fired and, for those that did not, why not. ``source`` picks one when several
    sources sent this id (else that is a ``ConflictError`` naming them)."""
    _check_text(event_id, "event id")
    remote = active_remote()
    if remote is not None:
        return remote.get_event(str(event_id), source)
    return _events_api.get(get_instance(), event_id, source)


def wait_for(
    predicate_or_execution: Callable[[], Any] | Execution, timeout: float = 60.0, poll: float = 0.05
) -> Any:
    """Wait until an execution ends, or a predicate returns something truthy (returned)."""
    if isinstance(predicate_or_execution, Execution):
        return predicate_or_execution.wait(timeout=timeout, poll=poll)
    deadline = time.monotonic() + timeout
    while True:
        value = predicate_or_execution()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met within {timeout} s")
        time.sleep(poll)
