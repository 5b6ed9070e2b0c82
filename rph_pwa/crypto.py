"""Field encryption at rest with MultiFernet, and key rotation.

Keys come from `FIELD_KEYS` (newest first). The newest key encrypts; every key decrypts, so a new
key can be added in front and `flask --app rph_pwa rotate-keys` re-encrypts old values with it.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import Flask, current_app
from sqlalchemy import Connection, Table, bindparam, cast, select, update
from sqlalchemy.types import Text, TypeDecorator

EXTENSION_KEY = "rph_crypto"


class FieldCrypto:
    """Encrypts and decrypts text fields; also computes keyed lookup hashes."""

    def __init__(self, keys: Sequence[str], lookup_key: str) -> None:
        if not keys:
            raise RuntimeError("FIELD_KEYS must hold at least one Fernet key")
        try:
            self._fernet = MultiFernet([Fernet(key) for key in keys])
        except (ValueError, TypeError) as exc:
            raise RuntimeError("FIELD_KEYS holds a key that is not a valid Fernet key") from exc
        self._lookup_key = lookup_key.encode()

    def encrypt(self, value: str) -> str:
        return self._fernet.encrypt(value.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken as exc:
            raise RuntimeError("a field could not be decrypted with any configured key") from exc

    def rotate(self, token: str) -> str:
        """Re-encrypt a token under the newest key (keeps its original timestamp)."""
        return self._fernet.rotate(token.encode("ascii")).decode("ascii")

    def lookup_hash(self, value: str) -> str:
        """A keyed hash for finding a row by a secret value (e.g. an e-mail) without storing it."""
        return hmac.new(self._lookup_key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def secret_digest(secret: str) -> str:
    """The SHA-256 (hex) stored in place of a random secret (a sign-in token, a draft's key, an
    evaluation link): the row is found by it, and the secret itself is never stored."""
    return hashlib.sha256(secret.encode()).hexdigest()


def init_app(app: Flask) -> None:
    """Build the FieldCrypto of this app from its config."""
    app.extensions[EXTENSION_KEY] = FieldCrypto(app.config["FIELD_KEYS"], app.config["LOOKUP_KEY"])


def field_crypto() -> FieldCrypto:
    """The FieldCrypto of the current app."""
    return current_app.extensions[EXTENSION_KEY]


def generate_key() -> str:
    """A new random Fernet key."""
    return Fernet.generate_key().decode("ascii")


class EncryptedText(TypeDecorator):
    """A text column stored as a Fernet token; plain `str` in Python."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect) -> str | None:
        if value is None:
            return None
        return field_crypto().encrypt(value)

    def process_result_value(self, value: str | None, dialect) -> str | None:
        if value is None:
            return None
        return field_crypto().decrypt(value)


class EncryptedInt(EncryptedText):
    """A whole number stored encrypted (an item answer): plain `int` in Python. SQL cannot compare
    or sum it, so only values nobody counts in SQL belong here."""

    cache_ok = True

    def process_bind_param(self, value: int | None, dialect) -> str | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError("EncryptedInt takes an int")
        return super().process_bind_param(str(value), dialect)

    def process_result_value(self, value: str | None, dialect) -> int | None:
        text = super().process_result_value(value, dialect)
        return None if text is None else int(text)


class EncryptedJSON(EncryptedText):
    """A JSON value (dict, list, number, text) stored as the Fernet token of its JSON text, as
    services used to write it by hand (`encrypt(json.dumps(value))`), so older rows read the same.

    Assign a new value to change it: a dict or list changed in place is not noticed by the session.
    """

    cache_ok = True

    def process_bind_param(self, value, dialect) -> str | None:
        if value is None:
            return None
        return super().process_bind_param(json.dumps(value, ensure_ascii=False), dialect)

    def process_result_value(self, value: str | None, dialect):
        text = super().process_result_value(value, dialect)
        return None if text is None else json.loads(text)


def encrypted_columns(tables: Sequence[Table]) -> list[tuple[Table, list[str]]]:
    """Every table with encrypted columns (EncryptedText and its subclasses), and their names."""
    found = []
    for table in tables:
        names = [c.name for c in table.columns if isinstance(c.type, EncryptedText)]
        if names:
            found.append((table, names))
    return found


def rotate_all(connection: Connection, crypto: FieldCrypto, tables: Sequence[Table], batch: int = 500) -> int:
    """Re-encrypt every encrypted value under the newest key; returns the number of values changed.

    Reads and writes the raw tokens as plain text (bypassing the type decorator), so values are
    never decrypted into Python strings; works in batches by primary key with one executemany each.
    """
    changed = 0
    for table, names in encrypted_columns(tables):
        pk = list(table.primary_key.columns)[0]
        statement = (
            update(table)
            .where(pk == bindparam("row_pk"))
            .values({name: bindparam(f"new_{name}", type_=Text()) for name in names})
        )
        last = None
        while True:
            query = select(pk, *[cast(table.c[name], Text) for name in names]).order_by(pk).limit(batch)
            if last is not None:
                query = query.where(pk > last)
            rows = connection.execute(query).all()
            if not rows:
                break
            params = []
            for row in rows:
                item = {"row_pk": row[0]}
                for name, token in zip(names, row[1:]):
                    item[f"new_{name}"] = None if token is None else crypto.rotate(token)
                    changed += token is not None
                params.append(item)
            connection.execute(statement, params)
            last = rows[-1][0]
    return changed
