"""Names of the events the engine itself emits (each in the same transaction as its change)."""

SOURCE = "headwater://engine"
ARTIFACT_CREATED = "headwater.artifact.created"
ARTIFACT_CARD_ADDED = "headwater.artifact.card_added"  # one per card, also at creation
EXECUTION_STARTED = "headwater.execution.started"
EXECUTION_SUCCEEDED = "headwater.execution.succeeded"
EXECUTION_FAILED = "headwater.execution.failed"
EXECUTION_RETRYING = "headwater.execution.retrying"
SCHEDULE_TICK = "headwater.schedule.tick"
