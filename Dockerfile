# lameduck's image: `docker build -t lameduck:0.1.0 .` (manifests/ use that name as a placeholder).
# The build compiles TypeScript with the dev dependencies; the runtime has only the production
# dependencies, dist/ and bin/, and runs as a numeric non-root user, so that `runAsNonRoot` can
# check it without a passwd entry. A Go stage builds lameduck-pause (pause/), the adaptive preStop
# handler's program, into the runtime image and into a small image of its own:
# `docker build --target pause -t lameduck-pause:0.1.0 .` (about 2 MB; serve's --pause-image).
ARG NODE_IMAGE=node:24-bookworm-slim
ARG GO_IMAGE=golang:1.26-bookworm

FROM ${GO_IMAGE} AS pause-build
WORKDIR /pause
COPY pause/go.mod pause/*.go ./
# Static, so that it runs in any container (distroless and scratch ones too); no dependencies to
# download. Exec form: the toolchain image needs no shell.
ENV CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-trimpath
RUN ["go", "build", "-ldflags=-s -w", "-o", "/out/lameduck-pause", "."]

FROM scratch AS pause
COPY --from=pause-build /out/lameduck-pause /usr/local/bin/lameduck-pause
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/lameduck-pause"]

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` runs the build, and the sources are not copied yet.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY certs-script ./certs-script
RUN npm run build

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would try to build, without TypeScript; dist/ comes from the build stage.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY --from=pause-build /out/lameduck-pause /usr/local/bin/lameduck-pause
# 65532: "nonroot" in distroless images; files stay root-owned and read-only to it.
USER 65532:65532
EXPOSE 8443 9090
ENTRYPOINT ["node", "bin/lameduck.js"]
CMD ["serve"]
