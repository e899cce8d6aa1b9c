"""Flask extensions, created once and bound to the app in create_app."""
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from engine.models import Base

# The engine's tables are plain SQLAlchemy; Flask-SQLAlchemy shares their metadata.
db = SQLAlchemy(metadata=Base.metadata)
csrf = CSRFProtect()
