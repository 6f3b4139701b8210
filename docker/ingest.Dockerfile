# syntax=docker/dockerfile:1.7
# The quanlu ingest image: `quanlu ingest` (broker client, consumer, index, HTTP API) from the
# TypeScript sources, run through tsx as on a development machine (no build step; see docker/README.md).
# Build from the repository root:  docker build -f docker/ingest.Dockerfile -t quanlu-ingest .
ARG NODE_IMAGE=node:24-bookworm-slim

# --- dependencies: production packages only; better-sqlite3 compiles here, so the tools stay behind
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ ca-certificates \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

# --- runtime: Debian's ffmpeg (derived MP4 copies in exports), the sources, a non-root user
FROM ${NODE_IMAGE} AS runtime
RUN apt-get update \
  && apt-get install -y --no-install-recommends ffmpeg tini ca-certificates \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json ./
COPY bin ./bin
COPY cli ./cli
COPY protocol ./protocol
COPY store ./store
COPY firmware-config ./firmware-config
COPY ingest ./ingest
COPY gateway ./gateway
COPY docker/mosquitto/write-auth-files.ts ./docker/mosquitto/write-auth-files.ts
COPY docker/minio/write-minio-certs.ts ./docker/minio/write-minio-certs.ts
# The image's own user (uid 1000 in the node images); /data is its data folder (secret, log key);
# /mosquitto-auth is where the `mqtt-auth` one-shot writes Mosquitto's files (a volume takes this owner).
RUN mkdir -p /data /etc/quanlu /mosquitto-auth && chown node:node /data /mosquitto-auth
USER node
VOLUME ["/data"]
EXPOSE 8080
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/bin/quanlu.js"]
CMD ["ingest", "--config", "/etc/quanlu/ingest.yaml"]
