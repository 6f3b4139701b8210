-- quanlu ingest index, version 3: the transparency log, signed tree heads and fixity sweeps (issue 8).
SELECT 1;
