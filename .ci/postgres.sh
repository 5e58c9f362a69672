#!/usr/bin/env bash
# Install and start PostgreSQL for the storage tests (Debian 12, run as root).
# Idempotent. Progress goes to stderr; the last line on stdout is the test database URL:
#   export NOCTURNA_TEST_PG=$(bash .ci/postgres.sh | tail -n1)
set -euo pipefail
exec 3>&1 1>&2 # everything to stderr; only the URL goes to the real stdout (fd 3)

ROLE=nocturna
PASSWORD=nocturna
DATABASE=nocturna_test
HOST=127.0.0.1

fail() {
  echo "postgres.sh: $*"
  exit 1
}

[ "$(id -u)" -eq 0 ] || fail "run me as root"
DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql || fail "cannot install postgresql"

version=$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -n1)
[ -n "$version" ] || fail "no PostgreSQL server under /usr/lib/postgresql"
if ! pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" {found = 1} END {exit !found}'; then
  echo "creating cluster $version/main"
  pg_createcluster "$version" main || fail "cannot create cluster $version/main"
fi
if ! pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" && $4 == "online" {up = 1} END {exit !up}'; then
  echo "starting cluster $version/main"
  # 3>&-: the server must not inherit our stdout, or "$(… | tail -n1)" would wait for it
  pg_ctlcluster "$version" main start 3>&- </dev/null || fail "cannot start cluster $version/main"
fi
port=$(pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" {print $3}')

for _ in $(seq 60); do
  pg_isready -q -h "$HOST" -p "$port" && break
  sleep 0.5
done
pg_isready -h "$HOST" -p "$port" || fail "PostgreSQL $version does not accept connections on $HOST:$port"

cd /tmp # psql as postgres must be able to read its working directory
admin() { runuser -u postgres -- psql -p "$port" -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }
admin <<SQL
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$ROLE') THEN
    CREATE ROLE $ROLE LOGIN PASSWORD '$PASSWORD';
  ELSE
    ALTER ROLE $ROLE LOGIN PASSWORD '$PASSWORD';
  END IF;
END
\$\$;
SQL
if [ "$(admin -c "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'")" != 1 ]; then
  admin -c "CREATE DATABASE $DATABASE OWNER $ROLE"
fi
admin -c "ALTER DATABASE $DATABASE OWNER TO $ROLE"

PGPASSWORD=$PASSWORD psql -X -q -h "$HOST" -p "$port" -U "$ROLE" -d "$DATABASE" -c "SELECT 1" >/dev/null ||
  fail "cannot log in to $DATABASE as $ROLE over TCP"
echo "PostgreSQL $version ready on $HOST:$port" >&2
echo "postgresql+psycopg://$ROLE:$PASSWORD@$HOST:$port/$DATABASE" >&3
