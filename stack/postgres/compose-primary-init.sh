#!/bin/bash
# compose.yaml: the primary's first start (mounted into /docker-entrypoint-initdb.d/). The role the replica
# streams as, and the pg_hba line that lets it (the image's "all" lines do not cover replication).
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
     -v password="${BOXOFFICE_REPLICATION_PASSWORD:?}" <<'SQL'
CREATE ROLE replicator WITH LOGIN REPLICATION PASSWORD :'password';
SQL
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
