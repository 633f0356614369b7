"""What users declare: tasks, workflows, artifacts, cards. Pure data and validation, no I/O."""
