#!/bin/sh
# Patroni's post_bootstrap in compose.yaml: the application's role and database, once, on the first primary.
set -eu
psql -v ON_ERROR_STOP=1 -d postgres -c "CREATE ROLE boxoffice LOGIN PASSWORD '$(cat /run/secrets/pg_password)'"
psql -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE boxoffice OWNER boxoffice"
