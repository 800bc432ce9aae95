-- The roles of least privilege, in the `postgres` database as the superuser; the local stack
-- (stack/lib/postgres.sh) and compose.yaml's post_bootstrap (compose-bootstrap.sh) both run it, with the
-- passwords set beforehand as psql variables (`\set`, on stdin: never on a command line).
--   boxoffice_owner    owns the database and every object in it; the migrations run as it (and the tools
--                      that make databases: CREATEDB); pg_monitor, as the operators' role
--   boxoffice          the services: rows only (privileges.sql), no superuser, no DDL, no roles, no databases
--   boxoffice_monitor  the metrics exporter: pg_monitor
SET client_min_messages = warning;
SELECT 'CREATE ROLE ' || r FROM unnest(ARRAY['boxoffice_owner', 'boxoffice', 'boxoffice_monitor']) AS r
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) \gexec
ALTER ROLE boxoffice_owner LOGIN NOSUPERUSER CREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'owner_password';
ALTER ROLE boxoffice LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'app_password';
ALTER ROLE boxoffice_monitor LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'monitor_password';
GRANT pg_monitor TO boxoffice_monitor, boxoffice_owner;
SELECT 'CREATE DATABASE boxoffice OWNER boxoffice_owner' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'boxoffice') \gexec
