"""Travel matrices from an OSRM server's ``table`` service, over httpx.

One request asks ``GET {base}/table/v1/{profile}/{lon,lat;...}?sources=..&destinations=..
&annotations=duration,distance`` and OSRM answers ``{"code": "Ok", "durations": [[...]],
"distances": [[...]]}`` with ``null`` for pairs it cannot route. OSRM refuses tables with more than
``max-table-size`` squared cells (``--max-table-size``, default 100, so 100 x 100), so large point
sets are split into blocks of at most ``max_table_size`` sources by ``max_table_size``
destinations, asked one after the other (the call blocks).

Transient failures (timeouts, connection errors, HTTP 429 and 5xx) are retried with exponential
backoff, honouring ``Retry-After``; anything else (an OSRM error code such as ``InvalidQuery`` or
``NoSegment``, a body that is not the documented JSON) raises `geo.errors.ProviderError` naming the
provider at once. Only when a fallback provider is configured does a failure turn into an
estimated matrix from that provider (``estimated=True``), with a warning logged.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
import numpy as np
import numpy.typing as npt

from geo.errors import ProviderError
from geo.matrix import UNREACHABLE, MatrixProvider, TravelMatrix
from geo.types import PointsLike, as_points

__all__ = ["OsrmProvider"]

logger = logging.getLogger(__name__)

_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


class OsrmProvider:
    """`geo.matrix.MatrixProvider` backed by an OSRM ``table`` service.

    Parameters
    ----------
    base_url : str
        Server root, e.g. ``"http://osrm:5000"``.
    profile : str, optional
        OSRM profile segment of the URL. Default ``"driving"``.
    client : httpx.Client, optional
        Client to send requests with (tests inject one built on ``httpx.MockTransport``). When
        omitted the provider creates and owns one; call `close` to release it.
    timeout_s : float, optional
        Per-request timeout in seconds (connect, read, write, pool). Default 10.
    max_table_size : int, optional
        The server's ``--max-table-size``; blocks have at most this many sources and destinations.
        Default 100, OSRM's own default.
    max_retries : int, optional
        Retries per block after a transient failure (so ``max_retries + 1`` attempts). Default 3.
    backoff_s : float, optional
        First wait before a retry; doubled on each further retry. Default 0.5.
    max_backoff_s : float, optional
        Cap on any single wait, including a server's ``Retry-After``. Default 8.
    fallback : MatrixProvider, optional
        Provider used when OSRM fails; its matrix is returned with ``estimated=True``. None (the
        default) means failures raise.
    name : str, optional
        Provider name in results, errors and cache keys. Default ``"osrm"``.
    sleep : callable, optional
        Function used to wait between retries (tests pass a recorder). Default `time.sleep`.

    Notes
    -----
    The ``area`` and ``departure`` arguments of `matrix` are accepted and ignored: OSRM's
    profiles are time-independent and do not vary by service area.
    """

    def __init__(
        self,
        base_url: str,
        *,
        profile: str = "driving",
        client: httpx.Client | None = None,
        timeout_s: float = 10.0,
        max_table_size: int = 100,
        max_retries: int = 3,
        backoff_s: float = 0.5,
        max_backoff_s: float = 8.0,
        fallback: MatrixProvider | None = None,
        name: str = "osrm",
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"OSRM base_url must start with http:// or https://, got {base_url!r}")
        if max_table_size < 1:
            raise ValueError("max_table_size must be at least 1")
        if max_retries < 0 or backoff_s < 0 or max_backoff_s < 0 or timeout_s <= 0:
            raise ValueError("timeouts, retries and backoff must be positive")
        self.base_url = base_url.rstrip("/")
        self.profile = profile
        self.timeout = httpx.Timeout(timeout_s)
        self.max_table_size = max_table_size
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.fallback = fallback
        self._name = name
        self._sleep = sleep
        self._owns_client = client is None
        self._client = client if client is not None else httpx.Client(timeout=self.timeout)

    @property
    def name(self) -> str:
        """Provider name."""
        return self._name

    def close(self) -> None:
        """Close the HTTP client if this provider created it."""
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> OsrmProvider:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def matrix(
        self,
        origins: PointsLike,
        destinations: PointsLike | None = None,
        *,
        departure: datetime | None = None,
        area: str | None = None,
    ) -> TravelMatrix:
        """Road travel durations and distances from each origin to each destination.

        Parameters
        ----------
        origins : array_like
            ``(N, 2)`` ``(lat, lon)`` degrees.
        destinations : array_like, optional
            ``(M, 2)`` ``(lat, lon)`` degrees; the origins when omitted.
        departure : datetime.datetime, optional
            Ignored by OSRM; passed on to the fallback.
        area : str, optional
            Ignored by OSRM; passed on to the fallback.

        Returns
        -------
        TravelMatrix
            ``estimated=False`` from OSRM, or the fallback's matrix with ``estimated=True``.
            Unroutable pairs hold `geo.matrix.UNREACHABLE`.

        Raises
        ------
        geo.errors.InvalidCoordinates
            If a point is malformed or out of range.
        geo.errors.ProviderError
            If OSRM fails and no fallback is configured.
        """
        a = as_points(origins, "origins")
        b = a if destinations is None else as_points(destinations, "destinations")
        try:
            durations, distances = self._table(a, b, square=destinations is None)
        except ProviderError as exc:
            if self.fallback is None:
                raise
            logger.warning("%s failed, using %s estimates: %s", self._name, self.fallback.name, exc)
            estimate = self.fallback.matrix(
                a, None if destinations is None else b, departure=departure, area=area
            )
            return TravelMatrix(
                np.array(estimate.durations),
                np.array(estimate.distances),
                provider=estimate.provider,
                estimated=True,
            )
        return TravelMatrix(durations, distances, provider=self._name, estimated=False)

    def _table(
        self, a: npt.NDArray[np.float64], b: npt.NDArray[np.float64], *, square: bool
    ) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]:
        n, m = a.shape[0], b.shape[0]
        durations = np.empty((n, m), dtype=np.int32)
        distances = np.empty((n, m), dtype=np.int32)
        size = self.max_table_size
        for i in range(0, n, size):
            for j in range(0, m, size):
                rows, cols = slice(i, min(i + size, n)), slice(j, min(j + size, m))
                block_d, block_m = self._block(a[rows], b[cols], same=square and i == j)
                durations[rows, cols] = block_d
                distances[rows, cols] = block_m
        return durations, distances

    def _block(
        self, sources: npt.NDArray[np.float64], targets: npt.NDArray[np.float64], *, same: bool
    ) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]:
        """Ask one table; ``same`` means sources and targets are the same points."""
        points = sources if same else np.concatenate([sources, targets])
        # OSRM wants lon,lat; six decimals are about 0.1 m, finer than any road snapping.
        coordinates = ";".join(f"{lon:.6f},{lat:.6f}" for lat, lon in points)
        query = "annotations=duration,distance"
        if not same:
            k = sources.shape[0]
            query += "&sources=" + ";".join(str(s) for s in range(k))
            query += "&destinations=" + ";".join(str(k + t) for t in range(targets.shape[0]))
        url = f"{self.base_url}/table/v1/{self.profile}/{coordinates}?{query}"
        payload = self._get_json(url)
        shape = (sources.shape[0], targets.shape[0])
        durations = self._cells(payload, "durations", shape)
        distances = self._cells(payload, "distances", shape)
        unreachable = np.isnan(durations) | np.isnan(distances)
        # Rounded to whole units and kept below the sentinel so that a real value never reads
        # as "no route".
        out_d = np.full(shape, UNREACHABLE, dtype=np.int32)
        out_m = np.full(shape, UNREACHABLE, dtype=np.int32)
        ok = ~unreachable
        out_d[ok] = np.minimum(np.rint(durations[ok]), UNREACHABLE - 1)
        out_m[ok] = np.minimum(np.rint(distances[ok]), UNREACHABLE - 1)
        return out_d, out_m

    def _get_json(self, url: str) -> dict[str, Any]:
        """GET with retries on transient failures; return the decoded ``code == "Ok"`` body."""
        attempt = 0
        while True:
            wait: float | None = None
            try:
                response = self._client.get(url, timeout=self.timeout)
            except httpx.TimeoutException as exc:
                reason = f"no answer within {self.timeout.read:g} s ({type(exc).__name__})"
            except httpx.TransportError as exc:
                reason = f"cannot reach {self.base_url} ({type(exc).__name__}: {exc})"
            else:
                if response.status_code not in _RETRY_STATUS:
                    return self._decode(response)
                reason = f"HTTP {response.status_code}{_describe(response)}"
                wait = _retry_after(response)
            if attempt >= self.max_retries:
                tries = attempt + 1
                raise ProviderError(
                    self._name,
                    f"{reason}; gave up after {tries} attempt{'s' if tries > 1 else ''}",
                    retryable=True,
                )
            backoff = self.backoff_s * 2**attempt
            self._sleep(min(self.max_backoff_s, backoff if wait is None else wait))
            attempt += 1

    def _decode(self, response: httpx.Response) -> dict[str, Any]:
        try:
            payload = response.json()
        except ValueError:
            raise ProviderError(
                self._name,
                f"answered HTTP {response.status_code} with a body that is not JSON: "
                f"{response.text[:120]!r}",
            ) from None
        if not isinstance(payload, dict):
            raise ProviderError(self._name, "answered JSON that is not an object")
        code = payload.get("code")
        if response.status_code != 200 or code != "Ok":
            message = payload.get("message")
            detail = f"{code}: {message}" if message else str(code)
            raise ProviderError(
                self._name, f"refused the table request (HTTP {response.status_code}, {detail})"
            )
        return payload

    def _cells(
        self, payload: dict[str, Any], key: str, shape: tuple[int, int]
    ) -> npt.NDArray[np.float64]:
        """Read an ``(N, M)`` table of numbers or nulls; nulls become NaN."""
        rows = payload.get(key)
        if not isinstance(rows, list) or len(rows) != shape[0]:
            raise ProviderError(
                self._name, f"response has no {shape[0]} x {shape[1]} '{key}' table"
            )
        out = np.empty(shape, dtype=np.float64)
        for i, row in enumerate(rows):
            if not isinstance(row, list) or len(row) != shape[1]:
                raise ProviderError(
                    self._name, f"response has no {shape[0]} x {shape[1]} '{key}' table"
                )
            for j, value in enumerate(row):
                if value is None:
                    out[i, j] = math.nan
                elif (
                    isinstance(value, int | float)
                    and not isinstance(value, bool)
                    and math.isfinite(value)
                    and value >= 0
                ):
                    out[i, j] = value
                else:
                    raise ProviderError(
                        self._name, f"'{key}'[{i}][{j}] is {value!r}, not a non-negative number"
                    )
        return out


def _describe(response: httpx.Response) -> str:
    """``": Code: message"`` from an OSRM error body, or nothing if the body is not one."""
    try:
        payload = response.json()
    except ValueError:
        return ""
    if isinstance(payload, dict) and payload.get("code"):
        message = payload.get("message")
        return f": {payload['code']}: {message}" if message else f": {payload['code']}"
    return ""


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds from a numeric ``Retry-After`` header, if any."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None
