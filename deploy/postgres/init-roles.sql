-- Run once by the PostgreSQL container on a fresh data directory (docker-entrypoint-initdb.d).
-- Two roles (README, "Database roles"):
--   reconi      the owner (POSTGRES_USER): runs the migrations, owns every table;
--   reconi_app  what web, worker and beat connect with: owns nothing; after each migrate,
--               deploy/postgres/app-role.sql gives it read/write on the portal's tables and
--               INSERT + SELECT only on audit_auditevent (checked by manage.py db_check_app_role).
-- The password comes from the environment of the db service (APP_DB_PASSWORD).
\set app_password `echo "${APP_DB_PASSWORD:-reconi_app}"`
CREATE ROLE reconi_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS PASSWORD :'app_password';
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
