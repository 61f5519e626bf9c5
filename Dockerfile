# The API image. The same settings as `make serve`, from the environment.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml constraints.txt README.md ./
COPY service ./service
RUN pip install --disable-pip-version-check -c constraints.txt .

COPY schema ./schema
COPY seeds ./seeds

RUN useradd --system --uid 10001 kb
USER kb

ENV HOST=0.0.0.0 PORT=8000 KB_SCHEMA_DIR=/app/schema KB_SEEDS_DIR=/app/seeds
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
  CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/health')"
CMD ["sh", "-c", "exec uvicorn --factory service.app:create_app --host \"$HOST\" --port \"$PORT\" --proxy-headers"]
