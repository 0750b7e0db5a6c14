-- The application's database role: reads and writes rows, owns no table, cannot rewrite the audit log.
-- Run as the owner of the tables (the role that runs migrations), after every migrate and restore:
--   psql "$OWNER_DATABASE_URL" -v ON_ERROR_STOP=1 -v app_role=reconi_app -f deploy/postgres/app-role.sql
-- The role itself is created once by the database administrator:
--   CREATE ROLE reconi_app LOGIN PASSWORD '...';
SELECT format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), :'app_role') \gexec
GRANT USAGE ON SCHEMA public TO :"app_role";
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO :"app_role";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO :"app_role";
-- Append-only audit log (rule 16): insert and read, never update, delete or truncate.
REVOKE UPDATE, DELETE, TRUNCATE, TRIGGER, REFERENCES ON audit_auditevent FROM :"app_role";
REVOKE ALL ON audit_auditevent FROM PUBLIC;
-- Check the result: manage.py db_check_app_role --role <app_role> (exit status 1 names what is wrong).
