#!/bin/sh
# Patroni's post_bootstrap in compose.yaml, once, on the first primary: the roles of least privilege and the
# database (roles.sql, privileges.sql: the very files the local stack runs), each role's password from its
# secret, handed to psql on stdin.
set -eu
{
  printf "\\set owner_password '%s'\n" "$(cat /run/secrets/pg_owner_password)"
  printf "\\set app_password '%s'\n" "$(cat /run/secrets/pg_app_password)"
  printf "\\set monitor_password '%s'\n" "$(cat /run/secrets/pg_monitor_password)"
  cat /usr/local/share/boxoffice/roles.sql
} | psql -v ON_ERROR_STOP=1 -qAt -d postgres
psql -v ON_ERROR_STOP=1 -qAt -d boxoffice --single-transaction -f /usr/local/share/boxoffice/privileges.sql
