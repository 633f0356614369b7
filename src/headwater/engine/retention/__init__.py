"""Retention guided by lineage: policies (``policy``), planning (``plan``), carrying a plan
out in batches and sweeping unreferenced blobs (``run``) and the
schedule ``headwater up`` runs it on (``schedule``). See docs/retention.md."""
