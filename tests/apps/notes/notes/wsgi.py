"""What gunicorn serves: notes.wsgi:app."""

from notes import create_app

app = create_app()
