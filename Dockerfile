# The API image. The same settings as `make serve`, from the environment.

# GraphiQL's files, from the npm registry at the pinned versions.
FROM node:20-slim AS web
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml constraints.txt README.md ./
COPY service ./service
RUN pip install --disable-pip-version-check -c constraints.txt .

COPY schema ./schema
COPY seeds ./seeds
COPY --from=web /web/node_modules/react/umd ./web/react/umd
COPY --from=web /web/node_modules/react-dom/umd ./web/react-dom/umd
COPY --from=web /web/node_modules/graphiql/graphiql.min.js /web/node_modules/graphiql/graphiql.min.css ./web/graphiql/
COPY --from=web /web/node_modules/@graphiql/plugin-explorer/dist ./web/@graphiql/plugin-explorer/dist

RUN useradd --system --uid 10001 kb
USER kb

ENV HOST=0.0.0.0 PORT=8000 KB_SCHEMA_DIR=/app/schema KB_SEEDS_DIR=/app/seeds KB_GRAPHIQL_DIR=/app/web
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
  CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/health')"
CMD ["sh", "-c", "exec uvicorn --factory service.app:create_app --host \"$HOST\" --port \"$PORT\" --proxy-headers --http h11 --h11-max-incomplete-event-size 262144"]
