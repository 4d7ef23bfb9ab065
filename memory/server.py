"""The connection to a shared Chroma server: URL, auth headers or token, tenant and database."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from gemloom.memory.errors import StoreUnavailable
from gemloom.settings import Settings

CHROMA_URL_ENV = "GEMLOOM_CHROMA_URL"  # Settings.chroma_url
TOKEN_ENV = "GEMLOOM_CHROMA_TOKEN"  # Settings.chroma_token


def headers(settings: Settings) -> dict[str, str]:
    """The HTTP headers every request to the server carries: the extra ones, then the token."""
    sent = dict(settings.chroma_headers)
    if settings.chroma_token is not None:
        token = settings.chroma_token.get_secret_value()
        if settings.chroma_token_header.lower() == "authorization":
            sent["Authorization"] = f"Bearer {token}"
        else:  # Chroma's X-Chroma-Token transport header takes the bare token
            sent[settings.chroma_token_header] = token
    return sent


def connect(url: str, settings: Settings) -> Any:
    """An HttpClient on the server's tenant and database, or a one-line StoreUnavailable."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from chromadb.errors import ChromaAuthError, NotFoundError

    parts = urlparse(url if "://" in url else f"http://{url}")
    try:
        return chromadb.HttpClient(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 8000,
            ssl=parts.scheme == "https",
            headers=headers(settings),
            tenant=settings.chroma_tenant,
            database=settings.chroma_database,
            settings=ChromaSettings(anonymized_telemetry=False),
        )
    except ChromaAuthError:
        raise StoreUnavailable(_refused(url, settings)) from None
    except NotFoundError as exc:
        raise StoreUnavailable(_not_found(url, str(exc))) from None
    except Exception:
        raise StoreUnavailable(
            f"Cannot reach the Chroma server at {url}: start it with "
            f"`chroma run --path DIR`, or unset {CHROMA_URL_ENV} to use the local store."
        ) from None


def _refused(url: str, settings: Settings) -> str:
    if settings.chroma_token is None and not settings.chroma_headers:
        return (
            f"The Chroma server at {url} wants credentials: set {TOKEN_ENV} "
            "(or chroma_token in the config file) to its token."
        )
    return (
        f"The Chroma server at {url} refused the credentials: check {TOKEN_ENV} "
        f"(sent in the {settings.chroma_token_header} header; GEMLOOM_CHROMA_TOKEN_HEADER "
        "picks it) and GEMLOOM_CHROMA_HEADERS."
    )


def _not_found(url: str, message: str) -> str:
    which = "TENANT" if message.lower().startswith("tenant") else "DATABASE"
    first = (message.strip().splitlines() or ["not found"])[0]
    return (
        f"The Chroma server at {url} says: {first}; set GEMLOOM_CHROMA_{which} to one that "
        "exists there (or create it on the server)."
    )
