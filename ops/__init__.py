"""Running the app in production: health endpoints, request logs, the gunicorn process."""
