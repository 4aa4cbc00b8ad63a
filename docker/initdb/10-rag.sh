#!/bin/sh
# Run by the postgres image on its first start (an empty data volume), as POSTGRES_USER:
# the same scripts/dba.sql a DBA runs on a managed server (docs/deploy.md).
set -eu
psql -v ON_ERROR_STOP=1 -X -q --username "$POSTGRES_USER" --dbname postgres \
     -v rag_password="$RAG_DB_PASSWORD" -f /rag/dba.sql
