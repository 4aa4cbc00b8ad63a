-- rag with an application role that may only read and write rows (docs/deploy.md, "DML only"):
-- a DBA keeps the tables' owner apart from the role the replicas connect as.
--
--   1. psql "$ADMIN_URI" -v rag_role=rag_owner -v rag_password='…' -f scripts/dba.sql
--   2. RAG_STORE='postgresql://rag_owner:…@db.example.com/rag?sslmode=require' rag list
--      (the first connect creates the tables and indexes in schema rag; `rag ingest` does too)
--   3. psql "$ADMIN_URI/rag" -v rag_password='…' -f scripts/dba_dml_only.sql
--
-- Optional: -v rag_owner=rag_owner (default), -v rag_role=rag_app (default),
-- -v rag_schema=rag (default). Run it in the rag database. It gives:
-- RAG_STORE=postgresql://rag_app:<password>@db.example.com:5432/rag?sslmode=require
--
-- The role reads and writes rows; it cannot create, alter or drop anything. A version of rag
-- that changes the schema (docs/scaling.md: the 0.5 sentence columns) then needs one start as
-- rag_owner (step 2 again) before the replicas, which otherwise stop with "must be owner of
-- table rag_sentences". Tables the owner adds later get the same grants (default privileges).

\set ON_ERROR_STOP on
\if :{?rag_owner}
\else
  \set rag_owner rag_owner
\endif
\if :{?rag_role}
\else
  \set rag_role rag_app
\endif
\if :{?rag_schema}
\else
  \set rag_schema rag
\endif
\if :{?rag_password}
\else
  \echo 'scripts/dba_dml_only.sql: give the role a password: psql -v rag_password=... -f scripts/dba_dml_only.sql'
  SELECT 1 / 0 AS rag_password_not_given;
\endif

SELECT format('CREATE ROLE %I LOGIN', :'rag_role')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'rag_role') \gexec
ALTER ROLE :"rag_role" WITH LOGIN PASSWORD :'rag_password';
SELECT format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO %I', current_database(), :'rag_role')
\gexec
SELECT format('ALTER ROLE %I IN DATABASE %I SET search_path = %I, public',
              :'rag_role', current_database(), :'rag_schema') \gexec

GRANT USAGE ON SCHEMA :"rag_schema" TO :"rag_role";
-- rag_meta: read on every connect; INSERT … ON CONFLICT DO NOTHING of the model it was built with
GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA :"rag_schema" TO :"rag_role";
-- documents, chunks, sentences: a document is replaced by DELETE + INSERT; `rag remove` locks
-- its row with SELECT … FOR UPDATE, which needs UPDATE
GRANT DELETE, UPDATE ON :"rag_schema".rag_documents, :"rag_schema".rag_chunks,
      :"rag_schema".rag_sentences TO :"rag_role";
ALTER DEFAULT PRIVILEGES FOR ROLE :"rag_owner" IN SCHEMA :"rag_schema"
      GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"rag_role";
