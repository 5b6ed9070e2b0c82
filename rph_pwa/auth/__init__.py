"""Sign-in: passkeys, e-mail codes, staff password + second factor, and account pages."""
from .views import bp

__all__ = ["bp"]
