-- The privileges of least privilege, in the `boxoffice` database as the superuser, in one transaction (the
-- services never see a moment without theirs); run after roles.sql by the local stack at every `up` and by
-- compose.yaml's post_bootstrap. An older stack's objects, owned by `boxoffice` when it was a superuser, go
-- to the owner. The tables the migrations make later get the same grants (default privileges).
SET client_min_messages = warning;
REASSIGN OWNED BY boxoffice TO boxoffice_owner;
ALTER DATABASE boxoffice OWNER TO boxoffice_owner;
ALTER SCHEMA public OWNER TO boxoffice_owner;
REVOKE ALL ON DATABASE boxoffice FROM PUBLIC;
GRANT CONNECT ON DATABASE boxoffice TO boxoffice, boxoffice_monitor;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO boxoffice;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO boxoffice;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO boxoffice;
ALTER DEFAULT PRIVILEGES FOR ROLE boxoffice_owner IN SCHEMA public
  GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO boxoffice;
ALTER DEFAULT PRIVILEGES FOR ROLE boxoffice_owner IN SCHEMA public
  GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO boxoffice;
