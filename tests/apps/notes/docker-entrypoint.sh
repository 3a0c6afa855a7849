#!/bin/sh
# Migrate the database, then run what CMD says (gunicorn), as the container's main process.
set -eu
python -m notes.migrate
exec "$@"
