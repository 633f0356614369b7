"""The engine: registry, launcher, runner, lineage, runtime context."""
