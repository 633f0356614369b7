"""Headwater's HTTP API (``pip install 'headwater[server]'``), served by ``headwater up``.

``create_app(instance)`` builds the FastAPI app: REST under ``/api/v1``, CloudEvents in at
``POST /api/v1/events``, ``/openapi.json``, ``/healthz`` and Prometheus ``/metrics``.
"""

from headwater.api.app import create_app
from headwater.api.config import ApiConfig

__all__ = ["ApiConfig", "create_app"]
