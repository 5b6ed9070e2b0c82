"""Sign-in: passkeys, e-mail codes, staff password + second factor, and account pages.

The blueprint is made here and its routes are declared in `views`, imported at the bottom so
that it can use `bp` (the layout of Miguel Grinberg's microblog). Other blueprints may use auth's
forms and sign-in helpers; auth imports no other blueprint package.
"""
from flask import Blueprint

bp = Blueprint("auth", __name__)

from . import views  # noqa: E402,F401 - declares the routes on bp
