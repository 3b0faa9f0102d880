-- Run once by the mysql image when it initialises its data directory (docker/compose.yaml).
-- User migrate may create databases and read the binlog (REPLICATION SLAVE/CLIENT are part of ALL).
GRANT ALL PRIVILEGES ON *.* TO 'migrate'@'%' WITH GRANT OPTION;
