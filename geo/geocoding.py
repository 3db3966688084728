"""Optional geocoding of site addresses through geopy (Nominatim by default).

Geocoding is off unless configured (`GeocoderConfig.enabled`): a site without coordinates is then
refused with `geo.errors.GeocodingDisabled`, saying to send coordinates. When on, every lookup goes
through an LRU cache (misses are cached too, so a bad address is not asked again and again), calls
to the service are spaced by at least `GeocoderConfig.min_delay_s` (the public Nominatim server
allows one request per second and requires an identifying User-Agent, see
https://operations.osmfoundation.org/policies/nominatim/), and transient failures (timeouts,
unavailability, rate limiting) are retried with backoff.

The geopy geocoder is injectable (``backend``), so tests pass a fake object and nothing touches
the network.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from geopy import exc as geopy_exc
from geopy.geocoders import Nominatim

from geo.errors import AddressNotFound, GeocodingDisabled, GeocodingFailed, GeoError
from geo.types import LatLon, as_point

__all__ = ["GeocodeResult", "Geocoder", "GeocoderBackend", "GeocoderConfig"]

_PUBLIC_NOMINATIM = "nominatim.openstreetmap.org"
_TRANSIENT = (
    geopy_exc.GeocoderTimedOut,
    geopy_exc.GeocoderUnavailable,
    geopy_exc.GeocoderRateLimited,
)


class GeocoderBackend(Protocol):
    """What `Geocoder` needs of a geopy geocoder: ``geocode`` returning a location or None."""

    def geocode(
        self, query: str, *, exactly_one: bool = ..., timeout: float = ..., **kwargs: Any
    ) -> Any:
        """Return an object with ``latitude``, ``longitude`` and ``address``, or None."""
        ...


@dataclass(frozen=True)
class GeocoderConfig:
    """Settings of the geocoder (the application reads them from its settings and passes them).

    Parameters
    ----------
    enabled : bool, optional
        Whether addresses may be geocoded at all. Default False.
    domain : str, optional
        Nominatim host (and optional path), e.g. ``"nominatim.example.org"``.
        Default the public ``"nominatim.openstreetmap.org"``.
    scheme : str, optional
        ``"https"`` (default) or ``"http"``.
    user_agent : str, optional
        Identifies the application to the service; required when enabled.
    timeout_s : float, optional
        Per-request timeout. Default 10 s.
    min_delay_s : float, optional
        Minimum time between two requests. Default 1 s, the least the public server allows.
    max_retries : int, optional
        Retries after a transient failure. Default 2.
    backoff_s : float, optional
        First wait before a retry, doubled each time (a rate limit's own ``retry_after`` wins
        when longer). Default 2 s.
    cache_size : int, optional
        Addresses remembered (found or not). Default 10,000.
    country_codes : tuple of str, optional
        ISO 3166-1 alpha-2 codes restricting results, e.g. ``("gb",)``. Default none.

    Raises
    ------
    geo.errors.GeoError
        If a setting is unusable; ``field`` names it.
    """

    enabled: bool = False
    domain: str = _PUBLIC_NOMINATIM
    scheme: str = "https"
    user_agent: str | None = None
    timeout_s: float = 10.0
    min_delay_s: float = 1.0
    max_retries: int = 2
    backoff_s: float = 2.0
    cache_size: int = 10_000
    country_codes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.scheme not in ("http", "https"):
            raise GeoError("scheme", f"must be 'http' or 'https', got {self.scheme!r}")
        if not self.domain.strip("/"):
            raise GeoError("domain", "must name the geocoding server")
        if self.timeout_s <= 0 or self.min_delay_s < 0 or self.backoff_s < 0:
            raise GeoError("timeout_s", "timeouts and delays must be positive")
        if self.max_retries < 0 or self.cache_size < 0:
            raise GeoError("max_retries", "retries and cache size cannot be negative")
        if self.enabled and not (self.user_agent and self.user_agent.strip()):
            raise GeoError(
                "user_agent", "geocoding needs a User-Agent that identifies this application"
            )
        if self.enabled and self.domain.strip("/") == _PUBLIC_NOMINATIM and self.min_delay_s < 1:
            raise GeoError(
                "min_delay_s", "the public Nominatim server allows at most one request per second"
            )


@dataclass(frozen=True)
class GeocodeResult:
    """A geocoded address.

    Attributes
    ----------
    lat, lon : float
        Coordinates in degrees.
    address : str
        The service's name for the place found.
    """

    lat: float
    lon: float
    address: str

    @property
    def point(self) -> LatLon:
        """``(lat, lon)``."""
        return self.lat, self.lon


class Geocoder:
    """Cached, rate-limited address lookup.

    Parameters
    ----------
    config : GeocoderConfig, optional
        Settings; the default is disabled.
    backend : GeocoderBackend, optional
        A geopy geocoder (or a fake in tests). When omitted and enabled, a geopy `Nominatim` is
        built from ``config``.
    name : str, optional
        Provider name in errors. Default ``"nominatim"``.
    clock, sleep : callable, optional
        Monotonic clock and sleep used for rate limiting and backoff (tests pass fakes).
    """

    def __init__(
        self,
        config: GeocoderConfig | None = None,
        *,
        backend: GeocoderBackend | None = None,
        name: str = "nominatim",
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config if config is not None else GeocoderConfig()
        self.name = name
        self._clock = clock
        self._sleep = sleep
        self._backend = backend
        if self._backend is None and self.config.enabled:
            self._backend = Nominatim(
                user_agent=self.config.user_agent,
                domain=self.config.domain.strip("/"),
                scheme=self.config.scheme,
                timeout=self.config.timeout_s,
            )
        self._cache: OrderedDict[str, GeocodeResult | None] = OrderedDict()
        self._lock = threading.Lock()
        self._last_call: float | None = None
        self.calls = 0

    @property
    def enabled(self) -> bool:
        """Whether addresses can be geocoded."""
        return self.config.enabled

    def geocode(self, address: str, *, field: str = "address") -> GeocodeResult:
        """Coordinates of an address.

        Parameters
        ----------
        address : str
            Free-form address, e.g. ``"10 Downing Street, London"``.
        field : str, optional
            Name of the address in the caller's input, used in errors.

        Returns
        -------
        GeocodeResult

        Raises
        ------
        geo.errors.GeocodingDisabled
            If geocoding is off.
        geo.errors.AddressNotFound
            If the address is blank or the service finds no place for it.
        geo.errors.GeocodingFailed
            If the service fails (after retries for transient failures).
        """
        backend = self._backend
        if not self.config.enabled or backend is None:
            raise GeocodingDisabled(
                field,
                "geocoding is switched off, so the site needs coordinates: send its latitude "
                "and longitude",
            )
        key = " ".join(address.split()).casefold()
        if not key:
            raise AddressNotFound(field, "the address is empty")
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                found = self._cache[key]
            else:
                found = self._lookup(backend, address.strip(), field)
                self._cache[key] = found
                while len(self._cache) > self.config.cache_size:
                    self._cache.popitem(last=False)
        if found is None:
            raise AddressNotFound(field, f"no place found for {address.strip()!r}")
        return found

    def _lookup(self, backend: GeocoderBackend, query: str, field: str) -> GeocodeResult | None:
        options: dict[str, Any] = {}
        if self.config.country_codes:
            options["country_codes"] = list(self.config.country_codes)
        attempt = 0
        while True:
            self._wait_turn()
            try:
                location = backend.geocode(
                    query, exactly_one=True, timeout=self.config.timeout_s, **options
                )
            except _TRANSIENT as exc:
                if attempt >= self.config.max_retries:
                    raise GeocodingFailed(
                        self.name,
                        f"{_describe(exc)}; gave up after {attempt + 1} attempts",
                        field=field,
                        retryable=True,
                    ) from exc
                wait = self.config.backoff_s * 2**attempt
                retry_after = getattr(exc, "retry_after", None)
                if isinstance(retry_after, int | float):
                    wait = max(wait, float(retry_after))
                self._sleep(wait)
                attempt += 1
                continue
            except geopy_exc.GeopyError as exc:
                raise GeocodingFailed(self.name, _describe(exc), field=field) from exc
            if location is None:
                return None
            try:
                lat, lon = as_point((location.latitude, location.longitude), field)
            except (AttributeError, GeoError) as exc:
                raise GeocodingFailed(
                    self.name, "answered a place without valid coordinates", field=field
                ) from exc
            return GeocodeResult(lat, lon, str(getattr(location, "address", "") or query))

    def _wait_turn(self) -> None:
        """Sleep until ``min_delay_s`` has passed since the previous request, then record it."""
        now = self._clock()
        if self._last_call is not None:
            wait = self._last_call + self.config.min_delay_s - now
            if wait > 0:
                self._sleep(wait)
                now = self._clock()
        self._last_call = now
        self.calls += 1


def _describe(exc: Exception) -> str:
    kinds = {
        geopy_exc.GeocoderTimedOut: "no answer in time",
        geopy_exc.GeocoderUnavailable: "service unavailable",
        geopy_exc.GeocoderRateLimited: "rate limited",
        geopy_exc.GeocoderAuthenticationFailure: "authentication refused",
        geopy_exc.GeocoderInsufficientPrivileges: "access refused",
        geopy_exc.GeocoderQueryError: "query refused",
    }
    for kind, text in kinds.items():
        if isinstance(exc, kind):
            return f"{text} ({exc})" if str(exc) else text
    return f"{type(exc).__name__}: {exc}"
