"""Errors raised by the geography package.

Every error names the input it is about in ``field`` (a dotted / indexed path such as
``"boundary.coordinates[0][3]"`` or ``"origins[12]"``) so that the domain layer can turn it into a
validation error pointing at the right place, without ``geo`` knowing anything about HTTP.

Two families exist:

* input errors (`InvalidCoordinates`, `InvalidGeometry`, `GeocodingDisabled`, `AddressNotFound`):
  the caller sent something we cannot use; map them to a validation error (HTTP 422).
* upstream failures (`ProviderError`, `GeocodingFailed`): a routing engine or geocoder did not
  answer usefully; they are not the caller's fault and map to "service unavailable" (HTTP 502/503).
"""

from __future__ import annotations

__all__ = [
    "AddressNotFound",
    "GeoError",
    "GeocodingDisabled",
    "GeocodingFailed",
    "InvalidCoordinates",
    "InvalidGeometry",
    "ProviderError",
]


class GeoError(ValueError):
    """Base class of every error raised by `geo`.

    Parameters
    ----------
    field : str
        Path of the offending input, e.g. ``"boundary"`` or ``"points[3]"``.
    message : str
        Human-readable explanation, phrased for the person who sent the input.

    Attributes
    ----------
    field : str
        As given.
    message : str
        As given.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class InvalidCoordinates(GeoError):
    """A point is malformed, not finite, or outside latitude/longitude ranges."""


class InvalidGeometry(GeoError):
    """A polygon is malformed, empty, self-intersecting or apparently lat/lon swapped."""


class ProviderError(GeoError):
    """A travel-time provider failed or answered something unusable.

    Parameters
    ----------
    provider : str
        Name of the provider, e.g. ``"osrm"``.
    message : str
        What went wrong, including the server's own code and message where it sent one.
    field : str, optional
        Input the failure relates to; ``"travel_times"`` when it is the request as a whole.
    retryable : bool, optional
        True when the failure was transient (timeouts, HTTP 429/5xx) and a later call may succeed.

    Attributes
    ----------
    provider : str
        As given.
    retryable : bool
        As given.
    """

    def __init__(
        self,
        provider: str,
        message: str,
        *,
        field: str = "travel_times",
        retryable: bool = False,
    ) -> None:
        super().__init__(field, f"{provider}: {message}")
        self.provider = provider
        self.retryable = retryable


class GeocodingDisabled(GeoError):
    """Geocoding is switched off, so a site must be given with coordinates."""


class AddressNotFound(GeoError):
    """The geocoder answered but found no place for the address."""


class GeocodingFailed(ProviderError):
    """The geocoding service failed (timeout, unavailable, rate limited, refused)."""
