"""Small programs the task definition runs in the app's own image, ahead of the app."""
