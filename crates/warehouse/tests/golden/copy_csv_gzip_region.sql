COPY sales."order lines" (id, amount, note)
FROM 's3://stage-bucket/task-1/sales.order_lines/chunk-00042/manifest'
IAM_ROLE 'arn:aws:iam::123456789012:role/MigrateLoad'
MANIFEST
FORMAT AS CSV
GZIP
TIMEFORMAT 'auto'
DATEFORMAT 'auto'
REGION 'eu-west-1'
