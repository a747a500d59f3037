"""WSGI entry point: ``gunicorn wsgi:app``. Settings come from PROM_* environment variables."""

from prom.app import create_app

app = create_app()
