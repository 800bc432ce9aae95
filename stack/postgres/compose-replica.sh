#!/bin/bash
# compose.yaml's postgres-replica: a hot standby of `postgres`, like stack/stack.sh's replica. The first
# start copies the primary (pg_basebackup -R -X stream -C -S boxoffice_replica); a copy whose slot is gone
# on the primary (primary re-initialised, slot dropped) is made afresh instead of being left broken.
set -euo pipefail
: "${PGDATA:?}" "${PRIMARY_HOST:?}" "${PRIMARY_ADMIN_DSN:?}" "${PGPASSWORD:?}"
SLOT=boxoffice_replica
until pg_isready -q -h "$PRIMARY_HOST" -U replicator; do sleep 1; done
slot=$(psql "$PRIMARY_ADMIN_DSN" -qAtX -c "select 1 from pg_replication_slots where slot_name = '$SLOT'")
if [ -s "$PGDATA/PG_VERSION" ] && [ "$slot" != 1 ]; then
  echo "replica: slot $SLOT is gone on the primary, copying it afresh" >&2
  find "$PGDATA" -mindepth 1 -delete
fi
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  psql "$PRIMARY_ADMIN_DSN" -qAtX -c "select pg_drop_replication_slot(slot_name) from pg_replication_slots
                                      where slot_name = '$SLOT' and not active" >/dev/null
  pg_basebackup -h "$PRIMARY_HOST" -U replicator -D "$PGDATA" -R -X stream -C -S "$SLOT" --checkpoint=fast
  chmod 0700 "$PGDATA"
fi
# A hot standby needs max_connections (and the like) at least as high as its primary's.
exec postgres -c hot_standby=on -c hot_standby_feedback=on -c max_connections=300 -c shared_buffers=512MB
