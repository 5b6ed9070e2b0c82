"""Domain exceptions; views map them to HTTP answers."""


class DomainError(Exception):
    """Base class for expected, user-facing failures."""


class NotFound(DomainError):
    """The object does not exist, or the actor may not know that it exists."""


class Forbidden(DomainError):
    """The actor may not do this."""


class InvalidCode(DomainError):
    """A one-time or TOTP code was wrong, used or expired."""


class SecondFactorLocked(InvalidCode):
    """Too many wrong TOTP codes: the staff account's code check is locked for a while."""


class PasskeyError(DomainError):
    """A WebAuthn ceremony failed verification or expired."""


class Conflict(DomainError):
    """The change conflicts with existing data."""
