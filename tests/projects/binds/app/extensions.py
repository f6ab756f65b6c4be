"""Extension objects, created unbound so the factory can bind them to each app it builds."""

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()
migrate = Migrate(compare_type=True, render_as_batch=True)
