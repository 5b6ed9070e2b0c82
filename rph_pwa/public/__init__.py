"""Public pages: front page, crisis help, offline page, privacy, health check, PWA files.

The blueprint is made here and its routes are declared in `views`, imported at the bottom (the
layout of Miguel Grinberg's microblog).
"""
from flask import Blueprint

bp = Blueprint("public", __name__)

from . import course_views, evaluation_views, push_views, views  # noqa: E402,F401 - declare the routes on bp
