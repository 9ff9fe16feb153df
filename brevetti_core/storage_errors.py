"""Object storage failures as one clear `StorageError`, and the bounded, logged retries before one is raised.

A missing bucket, refused credentials or an endpoint that cannot be reached each become a
``StorageError`` (an OSError) naming the bucket and the endpoint and saying what to fix, instead of
"Forbidden", an empty listing or a botocore traceback. Transient failures (connection errors,
timeouts, throttling, HTTP 5xx) are retried by botocore's "standard" retry mode with exponential
backoff, ``BREVETTI_S3_ATTEMPTS`` attempts in all (default 5); every retry is logged as a warning.
s3fs's own retry loop is turned off so that the two do not multiply.
"""
from __future__ import annotations

import functools
import logging
import os
from typing import Any

from .redaction import redact_text, url_secrets

log = logging.getLogger(__name__)

ATTEMPTS_ENV = "BREVETTI_S3_ATTEMPTS"
DEFAULT_ATTEMPTS = 5
CREDENTIAL_CODES = frozenset((
    "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken", "InvalidClientTokenId",
    "TokenRefreshRequired", "AuthorizationHeaderMalformed", "InvalidSecurity",
))
MISSING_BUCKET_CODES = frozenset(("NoSuchBucket",))
CREDENTIALS_HINT = "check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE)"


class StorageError(OSError):
    """Object storage cannot be used as configured (missing bucket, refused credentials, unreachable endpoint).

    The message is one line with any credentials in the URIs it quotes (``user:password@``, signature or
    token query parameters) replaced by ``***``: it is shown to users and written to status.json.
    """

    def __init__(self, message: str):
        super().__init__(" ".join(redact_text(message).split()))


def s3_attempts() -> int:
    """Attempts per S3 request, the first included: BREVETTI_S3_ATTEMPTS, else 5."""
    text = os.environ.get(ATTEMPTS_ENV)
    if not text:
        return DEFAULT_ATTEMPTS
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"{ATTEMPTS_ENV} must be a whole number of attempts (1 or more), got {text!r}")
    return int(text)


def s3_retry_options(attempts: int) -> dict:
    """s3fs options: botocore standard retries with `attempts` in all, logged; s3fs's own retry loop off."""
    return {"config_kwargs": {"retries": {"max_attempts": attempts, "mode": "standard"}},
            "session": _retry_session(attempts)}


@functools.cache
def _retry_session(attempts: int) -> Any:
    """One botocore session per process and attempt count: it loads the S3 service model once (~0.3 s of CPU).

    A session holds no connection and no event loop, so a forked DataLoader worker makes its
    clients from its parent's session without loading the model again.
    """
    import aiobotocore.session

    session = aiobotocore.session.AioSession()
    session.register("needs-retry.s3", RetryLog(attempts))
    return session


class RetryLog:
    """A botocore ``needs-retry`` handler that logs each failed attempt that standard mode retries."""

    def __init__(self, attempts: int):
        self.attempts = attempts

    def __call__(self, attempts: int, response: Any = None, caught_exception: BaseException | None = None,
                 operation: Any = None, **_: Any) -> None:
        if caught_exception is not None:
            reason = f"{type(caught_exception).__name__}: {caught_exception}"
        elif response is not None and (response[0].status_code >= 500 or response[0].status_code == 429):
            reason = f"HTTP {response[0].status_code}"
        else:
            return
        if attempts < self.attempts:
            log.warning("S3 %s failed (%s); retrying with backoff (attempt %d of %d)",
                        getattr(operation, "name", "request"), reason, attempts + 1, self.attempts)


def endpoint_name(endpoint: str | None) -> str:
    """How messages name the endpoint: its URL, or AWS S3 itself."""
    return endpoint or "AWS S3 (the default endpoint)"


def error_code(error: BaseException) -> str | None:
    """The S3 error code of a botocore ClientError, or of the s3fs error translated from one."""
    for candidate in (error, error.__cause__, error.__context__):
        response = getattr(candidate, "response", None)
        if isinstance(response, dict):
            return response.get("Error", {}).get("Code")
    return None


def missing_bucket(bucket: str, path: str, endpoint: str | None) -> StorageError:
    """The error for a bucket that does not exist."""
    return StorageError(
        f"S3 bucket '{bucket}' does not exist on {endpoint_name(endpoint)} (for {path}): create it, or correct the "
        f"bucket name (BREVETTI_DATA_BUCKET, dataset URIs)"
    )


def refused_credentials(bucket: str, path: str, endpoint: str | None, detail: str) -> StorageError:
    """The error for credentials the endpoint does not accept."""
    return StorageError(
        f"{endpoint_name(endpoint)} refused the credentials for S3 bucket '{bucket}' ({detail}; for {path}): "
        f"{CREDENTIALS_HINT}"
    )


def translate(error: BaseException, bucket: str, path: str, endpoint: str | None) -> StorageError | None:
    """The StorageError that `error` (from s3fs/botocore on `path`) means, or None when it is not a storage failure.

    FileNotFoundError of a key is not one (the caller keeps it); a 403 without an error code is left
    to the caller too, which can ask the bucket what it means (a HEAD response carries no code). The
    credentials `path` carries are redacted wherever the message quotes them (botocore quotes parts of it).
    """
    translated = _translate(error, bucket, path, endpoint)
    if translated is None:
        return None
    message = str(translated)
    for secret in url_secrets(path):
        message = redact_text(message, secret)
    return StorageError(message)


def _translate(error: BaseException, bucket: str, path: str, endpoint: str | None) -> StorageError | None:
    code = error_code(error)
    name = type(error).__name__
    if code in MISSING_BUCKET_CODES:
        return missing_bucket(bucket, path, endpoint)
    if code in CREDENTIAL_CODES:
        return refused_credentials(bucket, path, endpoint, f"{code}: {_message(error)}")
    if name in ("NoCredentialsError", "PartialCredentialsError", "CredentialRetrievalError"):
        return StorageError(f"no usable AWS credentials for {path} on {endpoint_name(endpoint)} ({error}): "
                            f"set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE")
    if _is_unreachable(error):
        return StorageError(
            f"cannot reach the S3 endpoint {endpoint_name(endpoint)} for {path} ({name}, after {s3_attempts()} "
            f"attempts): check BREVETTI_S3_ENDPOINT (or AWS_ENDPOINT_URL) and that the server is running and reachable"
        )
    if isinstance(error, PermissionError) and code not in (None, "403"):
        return StorageError(f"{endpoint_name(endpoint)} denied access to {path} ({code}: {_message(error)}): "
                            f"the credentials lack permission for bucket '{bucket}'; check its policy or "
                            f"{CREDENTIALS_HINT}")
    if isinstance(error, (FileNotFoundError, PermissionError)):
        return None
    if isinstance(error, OSError) or _is_botocore(error):
        return StorageError(f"S3 request for {path} failed on {endpoint_name(endpoint)}: {name}: {error}")
    return None


def denied(bucket: str, path: str, endpoint: str | None) -> StorageError:
    """The error for a request the endpoint refused (HTTP 403) with credentials it otherwise accepts."""
    return StorageError(f"{endpoint_name(endpoint)} denied access to {path}: the credentials lack permission for "
                        f"bucket '{bucket}'; check its policy or {CREDENTIALS_HINT}")


def _message(error: BaseException) -> str:
    for candidate in (error, error.__cause__):
        response = getattr(candidate, "response", None)
        if isinstance(response, dict) and response.get("Error", {}).get("Message"):
            return str(response["Error"]["Message"])
    return str(error)


def _is_botocore(error: BaseException) -> bool:
    return type(error).__module__.split(".")[0] in ("botocore", "aiobotocore", "aiohttp")


def _is_unreachable(error: BaseException) -> bool:
    """Connection refused, DNS failure, timeouts: the endpoint did not answer."""
    if not _is_botocore(error):
        return isinstance(error, (ConnectionError, TimeoutError))
    from botocore.exceptions import ConnectionError as BotoConnectionError
    from botocore.exceptions import HTTPClientError

    return isinstance(error, (BotoConnectionError, HTTPClientError))
