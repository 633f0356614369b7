"""Bridges to other tools (OpenLineage export). Each is imported only when it is used."""
