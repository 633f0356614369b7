"""The base of every wire model."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Wire(BaseModel):
    """A body of the HTTP API: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")
