"""Flask extensions, created once and bound to the app in create_app."""
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from engine.models import Base

# The engine's tables are plain SQLAlchemy; Flask-SQLAlchemy shares their metadata.
db = SQLAlchemy(metadata=Base.metadata)
csrf = CSRFProtect()
# Rate limits against guessing on the public status page (web/public_status.py). No default limits:
# staff pages and the JSON API are limited only if RATELIMIT_DEFAULT / RATELIMIT_APPLICATION say so.
# Counters live in RATELIMIT_STORAGE_URI (memory:// by default, one process only); several processes
# or servers must share one storage, e.g. redis://host:6379 or memcached://host:11211.
limiter = Limiter(key_func=get_remote_address, default_limits=[])
