"""Where an S3-compatible object store is, and what its errors mean (for ``remote_objects``).

Kept apart from the store itself: parsing ``s3://bucket/prefix?endpoint=…`` and turning a
botocore/s3fs exception into a decision (retry or not, refused or unreachable) and into one line
without credentials need neither s3fs nor the network.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from modelbook.errors import ConfigError, ModelbookError

__all__ = [
    "S3Location",
    "denied",
    "display_objects",
    "is_remote",
    "no_credentials",
    "parse_s3",
    "reason",
    "strip_userinfo",
    "transient",
]


@dataclass(frozen=True)
class S3Location:
    """``s3://bucket/prefix`` plus where to reach it (no credentials: those are never here)."""

    bucket: str
    prefix: str  # without leading or trailing '/'; may be empty
    endpoint: str | None = None  # e.g. http://127.0.0.1:9000 (MinIO, moto, Ceph, R2 ...)
    region: str | None = None

    @property
    def display(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}".rstrip("/")

    def key(self, digest: str) -> str:
        """The object's path for s3fs: ``bucket/prefix/ab/cdef…``."""
        head = f"{self.bucket}/{self.prefix}/" if self.prefix else f"{self.bucket}/"
        return f"{head}{digest[:2]}/{digest[2:]}"

    @property
    def base(self) -> str:
        return f"{self.bucket}/{self.prefix}" if self.prefix else self.bucket


def strip_userinfo(url: str) -> str:
    return re.sub(r"//[^/@]*@", "//", url)


def is_remote(objects: str) -> bool:
    """Whether ``objects`` names object storage (``s3://``) rather than a folder."""
    return urlsplit(objects).scheme.lower() in {"s3", "s3a"}


def parse_s3(url: str) -> S3Location:
    """``s3://bucket/prefix?endpoint=http://host:9000&region=eu-west-1`` as an S3Location.

    The endpoint comes from ``?endpoint=``, else ``MODELBOOK_S3_ENDPOINT``, else
    ``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL`` (botocore's own variables); the region from
    ``?region=``, else the AWS variables. Credentials are never read from the URL.
    """
    parts = urlsplit(url)
    if parts.scheme.lower() not in {"s3", "s3a"} or not parts.hostname:
        raise ConfigError(
            f"{strip_userinfo(url)!r} is not an object store URL: write s3://bucket/prefix "
            "(or give a shared folder's path)."
        )
    if parts.username or parts.password:
        raise ConfigError(
            "put no credentials in the object store URL: set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) in the environment instead."
        )
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    unknown = sorted(set(query) - {"endpoint", "region"})
    if unknown:
        raise ConfigError(
            f"unknown option {unknown[0]!r} in the object store URL: only endpoint= and region=."
        )
    endpoint = (
        query.get("endpoint")
        or os.environ.get("MODELBOOK_S3_ENDPOINT")
        or os.environ.get("AWS_ENDPOINT_URL_S3")
        or os.environ.get("AWS_ENDPOINT_URL")
        or None
    )
    region = query.get("region") or None
    return S3Location(
        bucket=parts.hostname,
        prefix=unquote(parts.path).strip("/"),
        endpoint=endpoint,
        region=region,
    )


def display_objects(objects: str) -> str:
    """``objects`` as it may be shown or stored: no user, password or query string."""
    if is_remote(objects):
        parts = urlsplit(objects)
        return f"s3://{parts.hostname}{parts.path}".rstrip("/")
    return strip_userinfo(objects)


# -- errors -------------------------------------------------------------------------------------


def _secrets() -> list[str]:
    names = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID")
    return [v for v in (os.environ.get(n) for n in names) if v and len(v) >= 4]


def reason(exc: BaseException) -> str:
    """The first line of an error, without credentials, short enough for one line."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    for secret in _secrets():
        text = text.replace(secret, "***")
    text = strip_userinfo(text)
    name = type(exc).__name__
    text = f"{name}: {text}" if text and name not in text else (text or name)
    return text if len(text) <= 200 else text[:199] + "…"


_DENIED = re.compile(r"\b(AccessDenied|Forbidden|InvalidAccessKeyId|SignatureDoesNotMatch)\b")


def denied(exc: BaseException) -> bool:
    """A refusal (s3fs turns AccessDenied into PermissionError; botocore names the code)."""
    response = getattr(exc, "response", None)
    code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
    return (
        isinstance(exc, PermissionError)
        or code in {"403", "AccessDenied", "Forbidden", "InvalidAccessKeyId"}
        or bool(_DENIED.search(str(exc)))
    )


def no_credentials(exc: BaseException) -> bool:
    return type(exc).__name__ in {"NoCredentialsError", "PartialCredentialsError"}


def transient(exc: BaseException) -> bool:
    """Worth another try: not a missing object, a refusal or a bug of ours."""
    if isinstance(exc, ModelbookError | FileNotFoundError | PermissionError):
        return False
    if denied(exc) or no_credentials(exc):
        return False
    return not isinstance(exc, TypeError | ValueError | AttributeError | KeyError)
