# lameduck's image: `docker build -t lameduck:0.1.0 .` (manifests/ use that name as a placeholder).
# Two stages: the build compiles TypeScript with the dev dependencies; the runtime has only the
# production dependencies, dist/ and bin/, and runs as a numeric non-root user, so that
# `runAsNonRoot` can check it without a passwd entry.
ARG NODE_IMAGE=node:24-bookworm-slim

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
# 65532: "nonroot" in distroless images; files stay root-owned and read-only to it.
USER 65532:65532
EXPOSE 8443 9090
ENTRYPOINT ["node", "bin/lameduck.js"]
CMD ["serve"]
