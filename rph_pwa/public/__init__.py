"""Public pages: front page, crisis help, offline page, privacy, health check, PWA files."""
from .views import bp

__all__ = ["bp"]
