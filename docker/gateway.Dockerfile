# syntax=docker/dockerfile:1.7
# The quanlu gateway image: `quanlu gateway` (capture with ffmpeg, signed chains, spool, uplink) from
# the TypeScript sources, run through tsx (no build step; see docker/README.md).
# Build from the repository root:  docker build -f docker/gateway.Dockerfile -t quanlu-gateway .
ARG NODE_IMAGE=node:24-bookworm-slim

# --- dependencies: production packages only; better-sqlite3 (the spool's state) compiles here
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ ca-certificates \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

# --- runtime: Debian's ffmpeg for capture and segmenting, the sources, a non-root user
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
COPY gateway ./gateway
COPY ingest ./ingest
# The image's own user (uid 1000 in the node images); /data holds the key, spool and applied config.
RUN mkdir -p /data /etc/quanlu && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8090 9464
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/bin/quanlu.js"]
CMD ["gateway", "--config", "/etc/quanlu/gateway.yaml"]
