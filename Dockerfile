FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
# Pango and fonts for WeasyPrint (printable proposals and certificates).
RUN apt-get update && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
        libharfbuzz-subset0 fonts-dejavu-core && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md ./
COPY kipp ./kipp
COPY workers ./workers
COPY templates ./templates
COPY migrations ./migrations
RUN pip install -e . && pybabel compile -d kipp/translations \
    && useradd --create-home kipp && mkdir -p /app/instance && chown kipp /app/instance
USER kipp
EXPOSE 8000
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-", "kipp:create_app()"]
