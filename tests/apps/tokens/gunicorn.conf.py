# gunicorn reads this file from its working directory.
bind = "0.0.0.0:8080"
workers = 2
