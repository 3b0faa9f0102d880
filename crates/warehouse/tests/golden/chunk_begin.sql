BEGIN;
LOCK migrate.migrate_checkpoint;
SELECT rows FROM migrate.migrate_checkpoint WHERE task = 'task-1' AND source_table = 'Sales."Order Lines"' AND chunk = 42;
