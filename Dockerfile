# syntax=docker/dockerfile:1
#
# One image for every role: the command picks it.
#   docker run IMAGE                  -> `mediaflow serve` (HTTP API, dashboard, storage webhook)
#   docker run IMAGE worker           -> `mediaflow worker` (BullMQ tasks; no HTTP, so add --no-healthcheck)
#   docker run IMAGE process|demo ... -> the other CLI commands
#
# Build and runtime stages share Debian bookworm, so native modules built or fetched in the full
# image (sharp's libvips, msgpackr-extract) load against the same glibc in the slim one.

ARG NODE_IMAGE=node:20-bookworm
ARG RUNTIME_IMAGE=node:20-bookworm-slim

# ---- build: compile TypeScript to plain JavaScript -------------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY functions ./functions
COPY pipeline ./pipeline
# tsc emits only .js (and imported .json); files the code reads at run time next to itself
# (dashboard pages, preset files) are copied beside their compiled modules.
RUN npm run build \
 && find functions pipeline -type f ! -name '*.ts' -exec cp --parents {} dist/ \;

# ---- deps: production dependencies only ------------------------------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# The static ffmpeg/ffprobe that npm bundles (~150 MB) are removed: the runtime uses Debian's through
# FFMPEG_PATH/FFPROBE_PATH. The code must therefore load @ffmpeg-installer/* and @ffprobe-installer/*
# only when those variables are unset; the smoke test at the end of this file fails the build if not.
RUN npm ci --omit=dev --no-audit --no-fund \
 && rm -rf node_modules/@ffmpeg-installer/linux-* node_modules/@ffprobe-installer/linux-* \
 && npm cache clean --force

# ---- runtime ---------------------------------------------------------------------------------------
FROM ${RUNTIME_IMAGE} AS runtime
# ffmpeg: Debian's build (ffprobe comes with it). tini: PID 1 that forwards SIGTERM to node and reaps
# zombies; the worker itself kills its ffmpeg process groups within MEDIAFLOW_SHUTDOWN_GRACE_S.
# fonts-dejavu-core: text watermarks are rendered by librsvg, which needs at least one font.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg tini fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*

# MALLOC_ARENA_MAX=2: glibc's per-thread arenas grow libvips workers by 100-180 MB for no speed gain.
ENV NODE_ENV=production \
    MALLOC_ARENA_MAX=2 \
    FFMPEG_PATH=/usr/bin/ffmpeg \
    FFPROBE_PATH=/usr/bin/ffprobe \
    MEDIAFLOW_HOST=0.0.0.0 \
    MEDIAFLOW_PORT=8080 \
    MEDIAFLOW_DATA_DIR=/data \
    MEDIAFLOW_SCRATCH_DIR=/tmp/mediaflow

WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Code finds shipped files relative to itself (`<root>/samples`: the watermark assets, the demo's
# media); compiled, that root is dist/.
COPY samples ./dist/samples
COPY package.json ./
# The compiled counterpart of bin/mediaflow.js (which runs the TypeScript through tsx): plain node,
# no transpiler at start-up. pipeline/cli/main.ts runs its program only when started as `mediaflow`.
# /data is only used in embedded mode (no MEDIAFLOW_S3_ENDPOINT); the app code stays root-owned.
RUN mkdir -p bin /data /tmp/mediaflow \
 && printf "import '../dist/pipeline/cli/main.js';\n" > bin/mediaflow.js \
 && chown 1000:1000 /data /tmp/mediaflow

# The `node` user of the base image, by number: Kubernetes' runAsNonRoot can only verify a numeric user.
USER 1000:1000

# Smoke test: Debian's ffmpeg runs, and the compiled CLI loads without the bundled binaries and
# offers the commands this image is run with.
RUN ffmpeg -hide_banner -version >/dev/null \
 && ffprobe -hide_banner -version >/dev/null \
 && node bin/mediaflow.js --help > /tmp/help.txt \
 && grep -qw serve /tmp/help.txt && grep -qw worker /tmp/help.txt \
 && rm /tmp/help.txt

EXPOSE 8080
# Liveness of the API (`serve`). The slim image has no curl; node's fetch does the request.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.MEDIAFLOW_PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/bin/mediaflow.js"]
CMD ["serve"]
