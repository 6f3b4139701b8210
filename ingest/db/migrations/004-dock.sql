-- quanlu ingest index, version 4: body-worn devices, their officers and their footage (issue 7).
SELECT 1;
