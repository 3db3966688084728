"""The travel-matrix result and the protocol every travel-time provider implements.

A provider answers "how long and how far from each origin to each destination" as a
`TravelMatrix` of int32 seconds and metres. The default is the embedded model
(`geo.model.ModelProvider`); `geo.osrm.OsrmProvider` asks a routing engine;
`geo.cache.CachedProvider` wraps either. A new engine (Valhalla, GraphHopper, ...) only has to
implement `MatrixProvider`.

Unreachable pairs (a routing engine found no route) hold the sentinel `UNREACHABLE` in both
matrices; `TravelMatrix.reachable` gives the mask. The sentinel is the largest int32, so a solver
that sums it as a cost sees "never" rather than a plausible small number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from geo.types import PointsLike

__all__ = ["UNREACHABLE", "MatrixProvider", "TravelMatrix"]

UNREACHABLE = int(np.iinfo(np.int32).max)
"""Duration and distance recorded for a pair with no route (2**31 - 1)."""


@dataclass(frozen=True, eq=False)
class TravelMatrix:
    """Travel durations and distances from N origins to M destinations.

    Parameters
    ----------
    durations : numpy.ndarray
        int32 ``(N, M)`` seconds; `UNREACHABLE` where there is no route.
    distances : numpy.ndarray
        int32 ``(N, M)`` metres; `UNREACHABLE` where there is no route.
    provider : str
        Name of the provider that computed the values, e.g. ``"model"`` or ``"osrm"``.
    estimated : bool
        True when the values come from the straight-line model rather than a routing engine,
        including when a routing engine failed and the model stood in for it.

    Notes
    -----
    Matrices need not be symmetric. The arrays are made read-only so a cached matrix cannot be
    altered through a result.
    """

    durations: npt.NDArray[np.int32]
    distances: npt.NDArray[np.int32]
    provider: str
    estimated: bool

    def __post_init__(self) -> None:
        for label, array in (("durations", self.durations), ("distances", self.distances)):
            if not isinstance(array, np.ndarray) or array.dtype != np.int32 or array.ndim != 2:
                raise TypeError(f"TravelMatrix.{label} must be a 2-D int32 numpy array")
        if self.durations.shape != self.distances.shape:
            raise ValueError(
                f"durations {self.durations.shape} and distances {self.distances.shape} differ"
            )
        self.durations.setflags(write=False)
        self.distances.setflags(write=False)

    @property
    def shape(self) -> tuple[int, int]:
        """``(N, M)``: number of origins and destinations."""
        n, m = self.durations.shape
        return int(n), int(m)

    @property
    def reachable(self) -> npt.NDArray[np.bool_]:
        """Boolean ``(N, M)`` mask, False where the pair has no route."""
        return self.durations != UNREACHABLE

    def __repr__(self) -> str:
        n, m = self.shape
        return f"TravelMatrix({n}x{m}, provider={self.provider!r}, estimated={self.estimated})"


@runtime_checkable
class MatrixProvider(Protocol):
    """Anything that computes travel matrices.

    Implementations must be safe to call from several threads and must validate their inputs with
    `geo.types.as_points` (so errors name ``origins[i]`` / ``destinations[j]``).
    """

    @property
    def name(self) -> str:
        """Short stable identifier, used in results, errors and cache keys."""
        ...

    def matrix(
        self,
        origins: PointsLike,
        destinations: PointsLike | None = None,
        *,
        departure: datetime | None = None,
        area: str | None = None,
    ) -> TravelMatrix:
        """Travel durations and distances from each origin to each destination.

        Parameters
        ----------
        origins : array_like
            ``(N, 2)`` ``(lat, lon)`` degrees.
        destinations : array_like, optional
            ``(M, 2)`` ``(lat, lon)`` degrees; the origins when omitted (square matrix).
        departure : datetime.datetime, optional
            Timezone-aware departure time, for providers with time-of-day effects. None means
            "no particular time" (no rush-hour adjustment).
        area : str, optional
            Key of the service area the trips belong to, for providers with per-area settings;
            providers without them ignore it.

        Returns
        -------
        TravelMatrix
            ``(N, M)`` matrices.
        """
        ...
