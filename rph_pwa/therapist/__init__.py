"""The staff workspace (therapists, team leads, admins)."""
from .views import bp

__all__ = ["bp"]
