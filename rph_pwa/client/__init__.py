"""The resident's pages."""
from .views import bp

__all__ = ["bp"]
