"""Exceptions raised when a stored model cannot be loaded safely."""

from __future__ import annotations


class ModelLoadError(Exception):
    """Base class: a stored model was refused and nothing was deserialised."""


class ModelIntegrityError(ModelLoadError):
    """The model bytes do not match their recorded SHA-256 or are unreadable."""


class UntrustedModelError(ModelLoadError):
    """The model archive references types outside the explicit allow-list."""


class ModelSignatureError(ModelIntegrityError):
    """The model's HMAC signature does not match its bytes and registry fields."""
