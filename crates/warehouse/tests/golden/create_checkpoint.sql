CREATE SCHEMA IF NOT EXISTS migrate;
CREATE TABLE IF NOT EXISTS migrate.migrate_checkpoint (
    task VARCHAR(256) NOT NULL,
    source_table VARCHAR(1024) NOT NULL,
    chunk BIGINT NOT NULL,
    rows BIGINT NOT NULL,
    checksum VARCHAR(256),
    loaded_at TIMESTAMP NOT NULL,
    PRIMARY KEY (task, source_table, chunk)
);
