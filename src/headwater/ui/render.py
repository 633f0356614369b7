"""Turning records into HTML: the Jinja2 environment, card Markdown and the page responses."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markdown_it import MarkdownIt
from markupsafe import Markup, escape
from starlette.responses import HTMLResponse

from headwater.ui.session import signed_in

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

# Scripts and styles only from this server's /static files: no inline script can run, so a
# card or a name that slipped through escaping still cannot execute anything.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}

_URI = re.compile(r"hw://[A-Za-z0-9_.\-]+/[A-Za-z0-9_.\-]+/[A-Za-z0-9_.\-]+@[A-Za-z0-9_.\-]+")


def version_path(uri: str) -> str:
    """The page of an exact version URI: ``hw://p/d/name@v`` -> ``/artifacts/p/d/name@v``."""
    return "/artifacts/" + uri.removeprefix("hw://")


@cache
def _markdown() -> MarkdownIt:
    # commonmark with raw HTML off: a <script> or an onerror= attribute in a card is shown as
    # text, never parsed as markup. Tables on (GitHub style), since cards use them.
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def markdown(text: str) -> Markup:
    """Card Markdown as HTML, raw HTML disabled (shown escaped)."""
    return Markup(_markdown().render(text))


def pretty(value: Any) -> Markup:
    """A JSON value, indented and escaped, with exact ``hw://`` URIs linked to their pages."""
    text = str(escape(json.dumps(value, indent=2, sort_keys=True, default=str)))
    linked = _URI.sub(lambda m: f'<a href="{version_path(m.group(0))}">{m.group(0)}</a>', text)
    return Markup(linked)


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["markdown"] = markdown
    env.filters["pretty"] = pretty
    env.filters["version_path"] = version_path
    env.globals["signed_in"] = signed_in
    return env


def page(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A rendered page with the UI's security headers."""
    html = environment().get_template(template).render(**context)
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def error_page(status: int, title: str, message: str) -> HTMLResponse:
    """A 400/404 page saying what was wrong, with a way back to search."""
    return page("error.html", status=status, title=title, message=message, code=status)
