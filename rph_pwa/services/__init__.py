"""Use cases. Services take a Session, an actor and settings; they flush but never commit."""
