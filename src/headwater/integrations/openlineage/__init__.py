"""OpenLineage export: every execution as RunEvents (START, then COMPLETE, FAIL or ABORT).

``storage/openlineage_outbox.py`` records each run state change in the transaction that makes
it; :mod:`.sender` (a leader-only loop of ``headwater up``) builds the events (:mod:`.events`)
and delivers them with the ``openlineage-python`` client's transport (:mod:`.config`);
``headwater lineage export`` builds the same events from the stored history. The client is
imported only here, so only when export is configured. See docs/openlineage.md.
"""
