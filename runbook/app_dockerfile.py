"""The Dockerfile `runbook init` writes for a WSGI app that has none: gunicorn, a non-root user.

Dependencies first (a layer rebuilt only when requirements.txt changes), then the code; the
port and the WSGI callable as init found or was told them.
"""

from __future__ import annotations

import sys

from runbook import rds_ca

HEADER = (
    "# Written by `runbook init`: a WSGI app served by gunicorn. It is yours now; edit freely.\n"
)


def dockerfile(wsgi: str, port: int, requirements: str, has_gunicorn: bool) -> str:
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    extra = "" if has_gunicorn else " gunicorn"
    if requirements == "requirements.txt":
        install = (
            "COPY requirements.txt .\n"
            f"RUN pip install -r requirements.txt{extra} \\\n"
            "    && useradd --system --uid 10001 --no-create-home app\n"
            "COPY . .\n"
        )
    elif requirements == "pyproject.toml":
        install = (
            "COPY . .\n"
            f"RUN pip install .{extra} \\\n"
            "    && useradd --system --uid 10001 --no-create-home app\n"
        )
    else:
        install = (
            "COPY . .\n"
            "RUN pip install gunicorn \\\n"
            "    && useradd --system --uid 10001 --no-create-home app\n"
        )
    return (
        HEADER
        + f"FROM python:{python}-slim\n\n"
        + "ENV PYTHONDONTWRITEBYTECODE=1 \\\n    PYTHONUNBUFFERED=1 \\\n"
        + "    PIP_NO_CACHE_DIR=1 \\\n    PIP_DISABLE_PIP_VERSION_CHECK=1\n\n"
        + "WORKDIR /app\n"
        + "# Amazon RDS's CAs: the database connection checks its certificate (DB_SSLROOTCERT).\n"
        + rds_ca.ADD_LINE
        + "\n"
        + install
        + "\nUSER app\n"
        + f"EXPOSE {port}\n"
        + f'CMD ["gunicorn", "--bind", "0.0.0.0:{port}", "--workers", "2", "{wsgi}"]\n'
    )
