"""The pages of the web UI. Every page reads through the client functions and handles the
REST routes use (``headwater.client``), so the UI, the API and the CLI show the same records.

Unknown things are a 404 page naming what was not found; malformed filters a 400 page with
the error next to the field. A token for one project sees only that project (the API's
``access`` dependency, declared when ``api/app.py`` includes this router, leaves the caller
on ``request.state.principal``).
"""

from __future__ import annotations

import difflib
import re
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import FileResponse, JSONResponse, Response

from headwater import client
from headwater.engine.publish.artifacts import time_bound
from headwater.errors import NotFoundError, UserInputError
from headwater.instance import Instance
from headwater.ui.objects import object_context, table_facts
from headwater.ui.render import HEADERS, STATIC, error_page, page, version_path

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
_FETCH_CAP = 10_000  # versions read at most for one search page (the API's own limit)
_STATIC_NAME = re.compile(r"^[a-z][a-z0-9_-]*\.(css|js)$")
_MEDIA = {"css": "text/css", "js": "text/javascript"}


def _inst(request: Request) -> Instance:
    inst: Instance = request.app.state.instance
    return inst


def _may_see(request: Request, project: str) -> bool:
    """Whether the caller may see ``project`` (everyone, without auth)."""
    who = getattr(request.state, "principal", None)
    return who is None or bool(who.may_see(project))


def _token_project(request: Request) -> str | None:
    who = getattr(request.state, "principal", None)
    if who is None or who.all_projects:
        return None
    return str(who.project)


def _not_found(what: str) -> Response:
    return error_page(404, "Not found", what)


def _forbidden(request: Request, what: str, project: str) -> Response:
    """403, as the API answers a token for another project."""
    who = getattr(request.state, "principal", None)
    mine = getattr(who, "project", "?")
    return error_page(
        403, "Forbidden", f"{what} is in project {project!r}; your token is for {mine!r}"
    )


def parse_partitions(items: list[str]) -> tuple[dict[str, str], dict[int, str]]:
    """``KEY=VALUE`` filters (empty fields ignored) and the problem of each bad field, by
    position in the form."""
    found: dict[str, str] = {}
    problems: dict[int, str] = {}
    for i, item in enumerate(items):
        text = item.strip()
        if not text:
            continue
        key, sep, value = text.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key:
            problems[i] = f"{text!r} is not KEY=VALUE; write e.g. blessed=true"
        elif not value:
            problems[i] = f"{text!r} has no value; write {key}=VALUE, e.g. {key}=true"
        else:
            found[key] = value
    return found, problems


@router.get("/static/{name}")
def static(name: str) -> Response:
    """The UI's own CSS and JavaScript (package files only)."""
    match = _STATIC_NAME.match(name)
    path = STATIC / name
    if match is None or not path.is_file():
        return _not_found(f"no static file {name!r}")
    return FileResponse(path, media_type=_MEDIA[match.group(1)], headers=HEADERS)


@router.get("/")
def search(request: Request) -> Response:
    """Every artifact (and partition, and time partition) with its latest version, newest
    first, paged on the server: one row per series, read by ``latest=True`` searches."""
    q = request.query_params
    name = q.get("name", "").strip()
    domain = q.get("domain", "").strip()
    fields = list(q.getlist("partition"))
    fields += [""] * (3 - len(fields))  # at least three partition fields in the form
    form: dict[str, Any] = {
        "name": name,
        "project": q.get("project", "").strip(),
        "domain": domain,
        "partition": fields,
        "time_from": q.get("time_from", "").strip(),
        "time_to": q.get("time_to", "").strip(),
        "text": q.get("text", "").strip(),
    }
    partitions, problems = parse_partitions(fields)
    errors: dict[str, str] = {f"partition{i}": m for i, m in problems.items()}
    bounds: dict[str, str | None] = {}
    for key in ("time_from", "time_to"):
        try:
            bounds[key] = time_bound(form[key], key, end=key == "time_to") if form[key] else None
        except UserInputError as exc:
            errors[key] = str(exc)
    low, high = bounds.get("time_from"), bounds.get("time_to")
    if low and high and high < low:
        errors["time_to"] = (
            f"time partition to ({form['time_to']}) is before from ({form['time_from']})"
        )
    page_text = q.get("page", "1")
    number = int(page_text) if page_text.isdigit() and int(page_text) >= 1 else 0
    if number == 0:
        errors["page"] = f"page {page_text!r} is not a positive whole number"
    project: str | None = form["project"] or _token_project(request)
    if project and not _may_see(request, project):
        errors["project"] = f"your token may not read project {project!r}"
    rows: list[Any] = []
    workflows: dict[str, str] = {}
    more = False
    if not errors:
        try:
            with _inst(request).use():
                found = client.search_artifacts(
                    name or None,
                    partitions,
                    None,
                    None,
                    PAGE_SIZE + 1,
                    project or None,
                    domain or None,
                    time_from=form["time_from"] or None,
                    time_to=form["time_to"] or None,
                    text=form["text"] or None,
                    latest=True,
                    offset=(number - 1) * PAGE_SIZE,
                )
                more = len(found) > PAGE_SIZE
                rows = [v for v in found[:PAGE_SIZE] if _may_see(request, v.project)]
                workflows = _search_producers(rows)
        except UserInputError as exc:
            errors["text" if str(exc).startswith("text") else "name"] = str(exc)
    status = 400 if errors else 200
    return page(
        "search.html",
        status=status,
        title="Artifacts",
        form=form,
        errors=errors,
        rows=rows,
        workflows=workflows,
        number=max(number, 1),
        more=more,
        prev_link=_page_link(request, number - 1) if number > 1 else None,
        next_link=_page_link(request, number + 1) if more else None,
        nav="artifacts",
    )


def _search_producers(rows: list[Any]) -> dict[str, str]:
    """The workflow of each execution that produced one of ``rows`` (by execution id)."""
    found: dict[str, str] = {}
    for v in rows:
        if v.execution_id and v.execution_id not in found:
            producer = v.producer
            if producer is not None:
                found[v.execution_id] = producer.workflow
    return found


def _page_link(request: Request, number: int) -> str:
    items = [(k, v) for k, v in request.query_params.multi_items() if k != "page" and v]
    items.append(("page", str(number)))
    return "/?" + urlencode(items)


@router.get("/artifacts/{project}/{domain}/{ref}")
def artifact(
    request: Request, project: str, domain: str, ref: str, tab: str = "overview"
) -> Response:
    """One artifact version: Overview (URI, partitions, producer, consumers, snippets) and
    Card (its Model/Data cards as Markdown) tabs."""
    name, sep, version_text = ref.rpartition("@")
    if not sep or not name or not version_text:
        return error_page(
            400,
            "Bad artifact address",
            f"{ref!r} is not NAME@VERSION; an artifact page is /artifacts/PROJECT/DOMAIN/NAME@VERSION",
        )
    if tab not in ("overview", "object", "card", "lineage", "versions"):
        tab = "overview"
    uri = f"hw://{project}/{domain}/{name}@{version_text}"
    if not _may_see(request, project):
        return _forbidden(request, uri, project)
    try:
        with _inst(request).use():
            version = client.get_artifact(uri)
            consumers = _consumers(version)
            cards = list(version.cards)
            extra = _tab_context(request, version, tab)
    except NotFoundError:
        return _not_found(f"no artifact version {uri}")
    except UserInputError as exc:
        return error_page(400, "Bad artifact address", str(exc))
    return page(
        "artifact.html",
        title=f"{version.name}@{version.version}",
        v=version,
        tab=tab,
        cards=list(reversed(cards)),
        consumers=consumers,
        here=version_path(version.uri),
        python_snippet=(
            "import headwater\n\n"
            f'version = headwater.get_artifact("{version.uri}")\n'
            "value = version.value()"
        ),
        cli_snippet=f'headwater artifacts get "{version.uri}" -o {version.name}-{version.version}',
        nav="artifacts",
        **extra,
    )


def _consumers(version: Any) -> list[str]:
    """Ids of the executions that consumed ``version`` (one hop of its lineage)."""
    graph = client.lineage(version, "downstream", 1)
    return sorted(
        {e.target for e in graph.edges if e.kind == "consumed" and e.source == version.uri}
    )


# --- Lineage and Versions tabs ----------------------------------------------------------

LINEAGE_DIRECTIONS = ("both", "upstream", "downstream")
LINEAGE_MAX_DEPTH = 3  # generations one request of the graph may ask for
LINEAGE_NODE_CAP = 300  # nodes one answer holds at most (the graph grows on demand)


def _tab_context(request: Request, version: Any, tab: str) -> dict[str, Any]:
    """What the Lineage and Versions tabs show besides the version itself."""
    q = request.query_params
    direction = q.get("direction", "both")
    extra: dict[str, Any] = {
        "direction": direction if direction in LINEAGE_DIRECTIONS else "both",
        "directions": LINEAGE_DIRECTIONS,
    }
    if tab == "versions":
        extra.update(_versions_context(version, q.get("page", "1"), q.get("compare", "")))
    elif tab == "object":
        extra.update(object_context(_inst(request), version))
    return extra


def _same_series(version: Any, limit: int) -> list[Any]:
    """Versions of the same artifact, partitions and time partition, newest first."""
    found = client.search_artifacts(
        version.name,
        dict(version.partitions) or None,
        None,
        None,
        limit,
        version.project,
        version.domain,
    )
    return [
        v
        for v in found
        if v.name == version.name
        and dict(v.partitions) == dict(version.partitions)
        and v.time_partition == version.time_partition
    ]


def _versions_context(version: Any, page_text: str, compare: str) -> dict[str, Any]:
    number = int(page_text) if page_text.isdigit() and int(page_text) >= 1 else 1
    start = (number - 1) * PAGE_SIZE
    series = _same_series(version, min(_FETCH_CAP, start + PAGE_SIZE + 1))
    rows = series[start : start + PAGE_SIZE]
    context: dict[str, Any] = {
        "series": rows,
        "series_page": number,
        "series_prev": number - 1 if number > 1 else None,
        "series_next": number + 1 if len(series) > start + PAGE_SIZE else None,
        "compare": None,
        "compare_error": None,
    }
    if compare:
        uri = f"hw://{version.project}/{version.domain}/{version.name}@{compare}"
        try:
            other = client.get_artifact(uri)
        except (NotFoundError, UserInputError):
            context["compare_error"] = f"no version {uri} to compare with"
        else:
            context["compare"] = _comparison(version, other)
    return context


def _facts(v: Any) -> dict[str, str]:
    partitions = ", ".join(f"{k}={val}" for k, val in sorted(v.partitions.items()))
    return {
        "Version": str(v.version),
        "Partitions": partitions or "none",
        "Time partition": v.time_partition.isoformat() if v.time_partition else "none",
        "Type": str(v.literal.get("type") or v.literal.get("format") or "?"),
        "Format": str(v.literal.get("format", "?")),
        "Created": v.created_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
        "Produced by": v.execution_id or "published directly",
        **table_facts(v),  # rows and schema of a table
    }


def _card_text(v: Any) -> list[str]:
    lines: list[str] = []
    for c in reversed(list(v.cards)):
        lines += [f"[{c.kind}]", *c.text.splitlines(), ""]
    return lines


def side_by_side(left: list[str], right: list[str]) -> list[tuple[str, str, str]]:
    """Two texts line by line: (left line, right line, "same" | "changed" | "removed" |
    "added"), aligned on their common lines."""
    rows: list[tuple[str, str, str]] = []
    matcher = difflib.SequenceMatcher(a=left, b=right, autojunk=False)
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op == "equal":
            rows += [(x, x, "same") for x in left[a0:a1]]
            continue
        a, b = left[a0:a1], right[b0:b1]
        for i in range(max(len(a), len(b))):
            x = a[i] if i < len(a) else ""
            y = b[i] if i < len(b) else ""
            kind = "changed" if i < len(a) and i < len(b) else "removed" if i < len(a) else "added"
            rows.append((x, y, kind))
    return rows


def _comparison(version: Any, other: Any) -> dict[str, Any]:
    mine, theirs = _facts(version), _facts(other)
    labels = dict.fromkeys([*mine, *theirs])  # a table and a non-table: rows on one side
    both = [(k, mine.get(k, "not a table"), theirs.get(k, "not a table")) for k in labels]
    return {
        "other": other,
        "facts": [(k, a, b, a != b) for k, a, b in both],
        "cards": side_by_side(_card_text(version), _card_text(other)),
    }


def _json_error(status: int, message: str) -> Response:
    return JSONResponse({"error": message}, status_code=status, headers=HEADERS)


def _node_json(node: Any) -> dict[str, Any]:
    body = node.to_dict()
    if node.kind == "artifact":
        body["short"] = f"{node.attrs.get('name')}@{node.attrs.get('version')}"
        body["href"] = version_path(node.id) + "?tab=lineage"
    else:
        workflow = str(node.attrs.get("workflow", "")).rsplit(".", 1)[-1]
        # the tail: execution ids start with their time, so runs close together share a head
        body["short"] = f"{workflow} …{node.id[-6:]}"
        body["href"] = f"/executions/{node.id}"
    return body


@router.get("/ui/lineage.json")
def lineage_json(
    request: Request, uri: str = "", direction: str = "both", depth: str = "1"
) -> Response:
    """The lineage around a version (``uri=hw://…@v``) or an execution (``uri=<id>``),
    ``depth`` generations (1 to 3) in ``direction``: what the Lineage tab draws and each
    "expand" adds. At most ``LINEAGE_NODE_CAP`` nodes (``truncated`` says when more exist)."""
    if direction not in LINEAGE_DIRECTIONS:
        return _json_error(
            400, f"direction must be 'upstream', 'downstream' or 'both', got {direction!r}"
        )
    if not depth.isdigit() or not 1 <= int(depth) <= LINEAGE_MAX_DEPTH:
        return _json_error(
            400, f"depth must be a whole number from 1 to {LINEAGE_MAX_DEPTH}, got {depth!r}"
        )
    if not uri.strip():
        return _json_error(400, "uri is missing: pass an exact hw://…@version or an execution id")
    nodes: dict[str, Any] = {}
    edges: dict[Any, None] = {}
    truncated = False
    try:
        with _inst(request).use():
            ref: Any
            if uri.startswith("hw://"):
                ref = client.get_artifact(uri)
                root = ref.uri
            else:
                ref = client.get_execution(uri)
                root = ref.id
            if not _may_see(request, ref.project):
                return _json_error(403, f"{root} is in project {ref.project!r}")
            # One generation may be huge (a version read by thousands of runs): keep the
            # first nodes up to the cap, and only edges between kept nodes.
            for piece in client.lineage_pages(ref, direction, int(depth)):
                for n in piece.nodes:
                    if n.id not in nodes and len(nodes) >= LINEAGE_NODE_CAP:
                        truncated = True
                        break
                    nodes.setdefault(n.id, n)
                edges.update(dict.fromkeys(piece.edges))
                if truncated:
                    break
    except NotFoundError:
        return _json_error(404, f"no artifact version or execution {uri}")
    except UserInputError as exc:
        return _json_error(400, str(exc))
    known = set(nodes)
    body = {
        "root": root,
        "direction": direction,
        "depth": int(depth),
        "nodes": [_node_json(n) for n in nodes.values()],
        "edges": [e.to_dict() for e in edges if e.source in known and e.target in known],
        "truncated": truncated,
    }
    return JSONResponse(body, headers=HEADERS)
