COPY sales."order lines" (id, amount, note)
FROM 's3://stage-bucket/task-1/sales.order_lines/chunk-00042/manifest'
ACCESS_KEY_ID 'AKIAEXAMPLE' SECRET_ACCESS_KEY <redacted> SESSION_TOKEN <redacted>
MANIFEST
FORMAT AS CSV
GZIP
TIMEFORMAT 'auto'
DATEFORMAT 'auto'
