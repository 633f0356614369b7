"""Container image specs: accepted and recorded with the task, not built on this machine."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class ImageSpec:
    """An image a task would run in on a container platform::

    @task(container_image=ImageSpec(packages=["scikit-learn==1.5"], registry="ghcr.io/me"))
    """

    packages: list[str] = field(default_factory=list)
    registry: str | None = None
    name: str = "headwater"
    base_image: str | None = None
    python_version: str | None = None
    apt_packages: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    requirements: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
