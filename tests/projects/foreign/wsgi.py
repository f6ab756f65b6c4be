"""The module Flask's default discovery finds when neither --app nor FLASK_APP names one."""

from app import create_app

app = create_app("wsgi")
