BEGIN;
LOCK migrate.migrate_cdc_checkpoint;
SELECT sequence, position FROM migrate.migrate_cdc_checkpoint WHERE task = 'task-1';
