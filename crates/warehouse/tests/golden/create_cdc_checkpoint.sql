CREATE SCHEMA IF NOT EXISTS migrate;
CREATE TABLE IF NOT EXISTS migrate.migrate_cdc_checkpoint (
    task VARCHAR(256) NOT NULL,
    sequence BIGINT NOT NULL,
    position VARCHAR(1024) NOT NULL,
    applied_at TIMESTAMP NOT NULL,
    source_committed_at TIMESTAMP,
    PRIMARY KEY (task)
);
