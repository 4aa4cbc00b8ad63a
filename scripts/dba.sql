-- rag on a PostgreSQL that a DBA runs (docs/deploy.md): the role, the database, the pgvector
-- extension and a schema the role owns, once, as a superuser or the managed service's admin
-- role (AWS RDS/Aurora: a member of rds_superuser; Azure: azure_pg_admin, after allow-listing
-- VECTOR in azure.extensions; Google Cloud SQL: cloudsqlsuperuser). psql 10 or later:
--
--   psql "postgresql://admin@db.example.com/postgres?sslmode=require" \
--        -v rag_password='a long random password' -f scripts/dba.sql
--
-- Optional: -v rag_role=rag_app (default), -v rag_db=rag (default), -v rag_schema=rag (default).
-- It gives: RAG_STORE=postgresql://rag_app:<password>@db.example.com:5432/rag?sslmode=require
--
-- The role owns the schema `rag`, so the first `rag` process creates its tables and indexes
-- there (under an advisory lock) and later versions can add columns: it needs no other right.
-- It has no superuser, CREATEDB or CREATEROLE, cannot create extensions, and cannot create
-- objects in `public` (PostgreSQL 15+ revokes that from PUBLIC; on 14 and older, also run
-- REVOKE CREATE ON SCHEMA public FROM PUBLIC in the database). Safe to run again (the
-- password is set anew). For an application role with DML only, see
-- scripts/dba_dml_only.sql.

\set ON_ERROR_STOP on
\if :{?rag_role}
\else
  \set rag_role rag_app
\endif
\if :{?rag_db}
\else
  \set rag_db rag
\endif
\if :{?rag_schema}
\else
  \set rag_schema rag
\endif
\if :{?rag_password}
\else
  \echo 'scripts/dba.sql: give the role a password: psql -v rag_password=... -f scripts/dba.sql'
  SELECT 1 / 0 AS rag_password_not_given;
\endif

-- the login role the app connects as (new roles have no SUPERUSER, CREATEDB or CREATEROLE)
SELECT format('CREATE ROLE %I LOGIN', :'rag_role')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'rag_role') \gexec
ALTER ROLE :"rag_role" WITH LOGIN PASSWORD :'rag_password';

-- a managed service's admin role is no superuser: it may hand a schema to the role (below) only
-- as a member of it (PostgreSQL 16: with SET); a superuser needs nothing
SELECT format('GRANT %I TO %I', :'rag_role', current_user)
WHERE NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) \gexec

-- the database (owned by whoever runs this script, not by the app)
SELECT format('CREATE DATABASE %I ENCODING %L', :'rag_db', 'UTF8')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'rag_db') \gexec
GRANT CONNECT, TEMPORARY ON DATABASE :"rag_db" TO :"rag_role";

\connect :"rag_db"

-- pgvector (needs superuser or the admin role above; the app cannot do it)
CREATE EXTENSION IF NOT EXISTS vector;

-- the schema the app's tables live in, owned by the app's role, first on its search_path
-- (the vector type and operators stay in the extension's schema, `public`, after it)
CREATE SCHEMA IF NOT EXISTS :"rag_schema" AUTHORIZATION :"rag_role";
ALTER SCHEMA :"rag_schema" OWNER TO :"rag_role";
ALTER ROLE :"rag_role" IN DATABASE :"rag_db" SET search_path = :"rag_schema", public;
