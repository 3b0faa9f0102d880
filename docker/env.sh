# shellcheck shell=sh
# The URLs of the servers of docker/compose.yaml, as the scenarios, tests and benchmarks read them
# (the same variables `scenarios/servers/*.sh env` prints for the native servers):
#
#   docker compose -f docker/compose.yaml up -d --wait postgres mariadb s3
#   . docker/env.sh
#
# With MIGRATE_MYSQL=mysql8 set before sourcing, MIGRATE_MYSQL_URL points at the MySQL 8 role
# instead of MariaDB. Throwaway test credentials: these servers listen on 127.0.0.1 only.
export MIGRATE_PG_URL=postgres://postgres@127.0.0.1:55432/postgres
if [ "${MIGRATE_MYSQL:-}" = mysql8 ]; then
	export MIGRATE_MYSQL_URL=mysql://migrate:migrate@127.0.0.1:53307/
else
	export MIGRATE_MYSQL_URL=mysql://migrate:migrate@127.0.0.1:53306/
fi
export MIGRATE_S3_URL=http://migrate:migrate-secret-key@127.0.0.1:38333/migrate-test
export AWS_ENDPOINT_URL=http://127.0.0.1:38333
export AWS_ACCESS_KEY_ID=migrate
export AWS_SECRET_ACCESS_KEY=migrate-secret-key
export AWS_REGION=us-east-1
export AWS_ALLOW_HTTP=true
