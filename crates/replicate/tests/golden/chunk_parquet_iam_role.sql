-- migrate: chunk 7 of sales."Order Lines" (task nightly).
-- Step 1; if the SELECT returns a row, ROLLBACK: the chunk is loaded already.
BEGIN;
LOCK migrate.migrate_checkpoint;
SELECT rows FROM migrate.migrate_checkpoint WHERE task = 'nightly' AND source_table = 'sales."Order Lines"' AND chunk = 7;
-- Step 2, on the same connection.
COPY sales."order lines"
FROM 's3://stage-bucket/prefix/nightly/sales.Order_Lines-0a1b2c3d-5f1e2d3c4b5a6/manifest-000007.json'
IAM_ROLE 'arn:aws:iam::123456789012:role/MigrateLoad'
MANIFEST
FORMAT AS PARQUET;
INSERT INTO migrate.migrate_checkpoint (task, source_table, chunk, rows, checksum, loaded_at)
VALUES ('nightly', 'sales."Order Lines"', 7, pg_last_copy_count(), NULL, getdate());
COMMIT;
