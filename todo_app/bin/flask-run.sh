#!/bin/sh
# Container entry point: apply the schema migrations, then serve the Todo API on port 5000.
# FLASK_ENV=production (default) runs gunicorn; FLASK_ENV=development, Flask's dev server.
set -eu

cd "$(dirname "$0")/.."

# A command given (a one-off task: `runbook run -- CMD`, a release command): run it instead,
# in the same environment, as an image's entry point conventionally does.
if [ "$#" -gt 0 ]; then
    exec "$@"
fi

# A task may start while its database is still coming up: keep trying for a while.
python -m todo_app.migrate --wait "${MIGRATE_WAIT_SECONDS:-60}"

case "${FLASK_ENV:-production}" in
    development)
        # Debug mode, and reloading on code changes, spelled out as --reload because click
        # 8.4.0 loses FLASK_DEBUG. The interactive debugger stays off: we listen on every
        # address, and it runs any code it is sent.
        export FLASK_DEBUG=1
        exec python -m flask --app todo_app run --reload --no-debugger \
            --host "${HOST:-0.0.0.0}" --port "${PORT:-5000}"
        ;;
    production)
        # exec: gunicorn becomes the process ECS signals, so SIGTERM stops it gracefully.
        exec python -m gunicorn --config python:todo_app.gunicorn_conf
        ;;
    *)
        echo "flask-run.sh: FLASK_ENV must be production or development, not '${FLASK_ENV}'" >&2
        exit 2
        ;;
esac
