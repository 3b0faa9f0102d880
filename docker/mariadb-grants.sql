-- Run once by the mariadb image when it initialises its data directory (docker/compose.yaml).
-- As natively (scenarios/servers/mariadb.sh): user migrate may create databases and read the binlog.
GRANT ALL PRIVILEGES ON *.* TO 'migrate'@'%' WITH GRANT OPTION;
