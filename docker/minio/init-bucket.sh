#!/bin/sh
# One-shot MinIO set-up for compose (`minio-init`): the evidence bucket WITH object lock (it can only be
# turned on when the bucket is made) and a default retention, and a gateway user that may put and get
# objects but never delete them [DESIGN invariant 5]. Idempotent: safe to run on every `up`.
set -eu
mc alias set local "https://minio:9000" "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD"
mc mb --ignore-existing --with-lock "local/$S3_BUCKET"
# COMPLIANCE: nobody, root included, can shorten the retention or delete a locked version before it ends.
mc retention set --default "$S3_RETENTION_MODE" "$S3_RETENTION_VALIDITY" "local/$S3_BUCKET"
mc admin user add local "$GATEWAY_S3_ACCESS_KEY" "$GATEWAY_S3_SECRET_KEY"
mc admin policy create local quanlu-gateway /etc/quanlu/minio/gateway-policy.json
mc admin policy attach local quanlu-gateway --user "$GATEWAY_S3_ACCESS_KEY" || true
mc retention info --default "local/$S3_BUCKET"
