"""Errors of the security package, each envelope failure with its own stable code.

::

    SecurityError (jnx.errors)
     ├── EnvelopeError                 code                     HTTP
     │    ├── MalformedEnvelope        JNX-ENV-MALFORMED        400
     │    ├── WrongRecipient           JNX-ENV-WRONG-RECIPIENT  421
     │    ├── Tampered                 JNX-ENV-TAMPERED         400
     │    ├── BadSignature             JNX-ENV-BAD-SIGNATURE    401
     │    ├── UnknownSigner            JNX-ENV-UNKNOWN-SIGNER   401
     │    ├── Expired                  JNX-ENV-EXPIRED          401
     │    ├── NotYetValid              JNX-ENV-NOT-YET-VALID    401
     │    └── Replayed                 JNX-ENV-REPLAYED         409
     ├── KeyStoreError                 the key store is unusable (corrupt index, bad file mode…)
     │    └── WrongPassphrase          the passphrase does not open the key store
     ├── KeyNotFound (also NotFoundError)
     ├── AuditChainBroken              the audit chain was changed, cut or reordered at ``seq``
     └── AuditWriteError               an audit entry could not be written: its change was not made
    StorageError (jnx.errors, transient)
     └── AuditBusyError                the audit chain stayed locked: its change was not made

The codes are part of jnx's contract with receivers and senders: they never change meaning. Messages
never contain key material or payload bytes.
"""

from __future__ import annotations

from jnx.errors import NotFoundError, SecurityError, StorageError


class EnvelopeError(SecurityError):
    """An envelope could not be sealed or opened. ``code`` is stable; ``http_status`` is the
    reference receiver's answer."""

    code: str = "JNX-ENV-ERROR"
    http_status: int = 400

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(f"{self.code}: {message}", hint=hint)
        self.reason = message


class MalformedEnvelope(EnvelopeError):
    """Not a compact JWE holding a compact JWS, or a required header is missing or mistyped."""

    code = "JNX-ENV-MALFORMED"
    http_status = 400


class WrongRecipient(EnvelopeError):
    """The envelope is addressed to a key we do not hold, or none of our keys decrypts it."""

    code = "JNX-ENV-WRONG-RECIPIENT"
    http_status = 421
    hint = "check that the sender encrypts to this receiver's current encryption key (kid)"


class Tampered(EnvelopeError):
    """The content key was unwrapped with our key, but the ciphertext, IV, tag or protected header
    fails the authentication tag: the envelope was altered in transit."""

    code = "JNX-ENV-TAMPERED"
    http_status = 400
    hint = "the envelope was changed after it was sealed: have the sender seal and send it again"


class BadSignature(EnvelopeError):
    """The signature does not match: the envelope was changed after signing (tampered)."""

    code = "JNX-ENV-BAD-SIGNATURE"
    http_status = 401


class UnknownSigner(EnvelopeError):
    """Signed by a kid that is not among the trusted signers (or was retired)."""

    code = "JNX-ENV-UNKNOWN-SIGNER"
    http_status = 401
    hint = "import the sender's public signing key: jnx keys import-peer FILE --kid KID"


class Expired(EnvelopeError):
    """``exp`` is in the past (beyond the allowed clock skew)."""

    code = "JNX-ENV-EXPIRED"
    http_status = 401
    hint = "the sender must seal a new envelope; check both clocks if this repeats"


class NotYetValid(EnvelopeError):
    """``iat`` is in the future (beyond the allowed clock skew)."""

    code = "JNX-ENV-NOT-YET-VALID"
    http_status = 401
    hint = "the sender's clock runs ahead: check NTP on both sides"


class Replayed(EnvelopeError):
    """The envelope's ``jti`` was seen before within the replay window."""

    code = "JNX-ENV-REPLAYED"
    http_status = 409
    hint = "every attempt must be a newly sealed envelope; re-pushes keep the idempotency key, not the jti"


ENVELOPE_ERRORS: tuple[type[EnvelopeError], ...] = (
    MalformedEnvelope,
    WrongRecipient,
    Tampered,
    BadSignature,
    UnknownSigner,
    Expired,
    NotYetValid,
    Replayed,
)


class KeyStoreError(SecurityError):
    """The key store cannot be used as it is (corrupt index, unreadable file, unsuitable key)."""

    exit_code = 3


class WrongPassphrase(KeyStoreError):
    """The passphrase does not open the key store's private keys."""

    hint = "set the passphrase the key store was created with in the environment variable named by JNX_KEY_PASSPHRASE_ENV"


class KeyNotFound(KeyStoreError, NotFoundError):
    """No key with this kid (or none fit for the use asked for)."""

    hint = "list the known keys with: jnx keys list"


class AuditChainBroken(SecurityError):
    """The audit chain does not verify; ``seq`` is the first entry that is wrong."""

    exit_code = 5

    def __init__(self, message: str, *, seq: int) -> None:
        super().__init__(message, hint="restore the audit table from a backup and investigate who wrote to it")
        self.seq = seq


def _undone(action: str, subject: str) -> str:
    return f"{action} of {subject} was not done: its audit entry could not be written"


class AuditWriteError(SecurityError):
    """The audit entry of an action could not be written, so the action's transaction was rolled back."""

    exit_code = 5

    def __init__(self, action: str, subject: str, reason: str) -> None:
        super().__init__(
            f"{_undone(action, subject)} ({reason}); nothing was changed",
            hint="check the audit_entries table (`jnx audit verify`) and the database's triggers and rights, then run the command again",
        )
        self.action = action
        self.subject = subject


class AuditBusyError(StorageError):
    """The audit chain stayed locked by other writers; the action's transaction was rolled back."""

    def __init__(self, action: str, subject: str, reason: str) -> None:
        super().__init__(
            f"{_undone(action, subject)} ({reason}); nothing was changed",
            hint="other writers held the audit chain: run the command again later (schedulers: retry on exit code 4)",
        )
        self.action = action
        self.subject = subject
