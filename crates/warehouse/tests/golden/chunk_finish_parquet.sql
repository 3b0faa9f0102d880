COPY sales."order lines"
FROM 's3://stage-bucket/task-1/sales.order_lines/chunk-00042/manifest'
IAM_ROLE 'arn:aws:iam::123456789012:role/MigrateLoad'
MANIFEST
FORMAT AS PARQUET;
INSERT INTO migrate.migrate_checkpoint (task, source_table, chunk, rows, checksum, loaded_at)
VALUES ('task-1', 'Sales."Order Lines"', 42, pg_last_copy_count(), NULL, getdate());
COMMIT;
