"""A bounded cache of travel matrices that only asks its provider for what it has not seen.

`CachedProvider` wraps any `geo.matrix.MatrixProvider`. Points are rounded (5 decimals, about 1 m,
by default) and given a slot in a per-context table, a context being (provider name, service area,
departure rounded down to `departure_resolution_s`). Each table keeps dense int32 durations and
distances plus a "known" mask over its slots, so a request for points the cache partly knows asks
the provider only for the missing cells: adding k points to a known set of n costs one k x (n + k)
request for the new rows and one n x k request for the new columns.

Memory is bounded by ``max_bytes`` (9 bytes per cell of every table: two int32 values and a mask
byte). When a table must grow past the bound, least recently used tables are dropped first, then
the table's least recently used points. A single request with more distinct points than the bound
allows bypasses the cache. Growing or compacting a table briefly holds the old and new arrays.

Matrices that a provider's fallback produced (their ``provider`` differs from the wrapped
provider's name, e.g. OSRM down and the model standing in) are returned but never cached, so the
real values are fetched once the provider recovers. A result that mixes cached cells with such
estimates carries the fallback's name and ``estimated=True``.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt

from geo.errors import GeoError
from geo.matrix import MatrixProvider, TravelMatrix
from geo.types import PointsLike, as_points

__all__ = ["CacheStats", "CachedProvider"]

_CELL_BYTES = 9  # int32 duration + int32 distance + bool known
_SLOT_BYTES = 24  # coordinates (2 x float64) + last-used tick (int64)
_MIN_CAPACITY = 64


@dataclass(frozen=True)
class CacheStats:
    """Counters of a `CachedProvider`.

    Attributes
    ----------
    requests : int
        Calls to `CachedProvider.matrix`.
    cells_served : int
        Cells returned in total.
    cells_computed : int
        Cells the wrapped provider was asked for.
    provider_calls : int
        Calls made to the wrapped provider.
    tables : int
        Contexts (provider, area, departure bucket) currently held.
    bytes : int
        Memory held by the tables' arrays.
    """

    requests: int
    cells_served: int
    cells_computed: int
    provider_calls: int
    tables: int
    bytes: int


class _Table:
    """Travel values among the points of one context, indexed by slot."""

    def __init__(self, capacity: int) -> None:
        self.slots: dict[tuple[float, float], int] = {}
        self.size = 0
        self.estimated = False
        self._allocate(capacity)

    def _allocate(self, capacity: int) -> None:
        self.capacity = capacity
        self.coords = np.zeros((capacity, 2), dtype=np.float64)
        self.last_used = np.zeros(capacity, dtype=np.int64)
        self.durations = np.zeros((capacity, capacity), dtype=np.int32)
        self.distances = np.zeros((capacity, capacity), dtype=np.int32)
        self.known = np.zeros((capacity, capacity), dtype=np.bool_)

    @property
    def nbytes(self) -> int:
        return _CELL_BYTES * self.capacity**2 + _SLOT_BYTES * self.capacity

    def resize(self, capacity: int, keep: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
        """Reallocate to ``capacity`` keeping slots ``keep`` (in order); return old -> new map."""
        old = (self.coords, self.last_used, self.durations, self.distances, self.known)
        self._allocate(capacity)
        n = keep.shape[0]
        self.coords[:n] = old[0][keep]
        self.last_used[:n] = old[1][keep]
        grid = np.ix_(keep, keep)
        self.durations[:n, :n] = old[2][grid]
        self.distances[:n, :n] = old[3][grid]
        self.known[:n, :n] = old[4][grid]
        remap = np.full(old[0].shape[0], -1, dtype=np.intp)
        remap[keep] = np.arange(n)
        self.slots = {key: int(remap[slot]) for key, slot in self.slots.items() if remap[slot] >= 0}
        self.size = n
        return remap


class CachedProvider:
    """`geo.matrix.MatrixProvider` caching another provider's matrices.

    Parameters
    ----------
    provider : MatrixProvider
        The provider to ask for cells the cache lacks.
    max_bytes : int, optional
        Bound on the memory held by cached tables. Default 100 MB (a table of about 3,300
        points, or several smaller ones).
    precision : int, optional
        Decimal places coordinates are rounded to before lookup; the provider receives the
        rounded coordinates, so a cached answer never depends on which nearby point came first.
        Default 5 (about 1.1 m).
    departure_resolution_s : int, optional
        Departures are rounded down to a multiple of this many seconds since the epoch; the
        provider receives the rounded time. Default 900 (15 minutes, a divisor of every real
        UTC offset, so local rush-hour boundaries are kept).

    Notes
    -----
    Calls are serialised by a lock, including the wrapped provider's work, so concurrent
    requests for the same context never compute the same cells twice.
    """

    def __init__(
        self,
        provider: MatrixProvider,
        *,
        max_bytes: int = 100_000_000,
        precision: int = 5,
        departure_resolution_s: int = 900,
    ) -> None:
        if not 0 <= precision <= 9:
            raise ValueError("precision must be between 0 and 9 decimal places")
        if departure_resolution_s < 1:
            raise ValueError("departure_resolution_s must be at least 1")
        self.provider = provider
        self.max_bytes = max_bytes
        self.precision = precision
        self.departure_resolution_s = departure_resolution_s
        # Largest K with 9 K^2 + 24 K <= max_bytes.
        self.max_points = int(
            (math.sqrt(_SLOT_BYTES**2 + 4 * _CELL_BYTES * max_bytes) - _SLOT_BYTES)
            // (2 * _CELL_BYTES)
        )
        if self.max_points < _MIN_CAPACITY:
            raise ValueError(f"max_bytes={max_bytes} cannot hold even {_MIN_CAPACITY} points")
        self._tables: OrderedDict[Hashable, _Table] = OrderedDict()
        self._lock = threading.RLock()
        self._tick = 0
        self._requests = 0
        self._cells_served = 0
        self._cells_computed = 0
        self._provider_calls = 0

    @property
    def name(self) -> str:
        """The wrapped provider's name (cached values are that provider's values)."""
        return self.provider.name

    def stats(self) -> CacheStats:
        """Current counters and memory use."""
        with self._lock:
            return CacheStats(
                requests=self._requests,
                cells_served=self._cells_served,
                cells_computed=self._cells_computed,
                provider_calls=self._provider_calls,
                tables=len(self._tables),
                bytes=sum(t.nbytes for t in self._tables.values()),
            )

    def clear(self) -> None:
        """Drop every cached table."""
        with self._lock:
            self._tables.clear()

    def matrix(
        self,
        origins: PointsLike,
        destinations: PointsLike | None = None,
        *,
        departure: datetime | None = None,
        area: str | None = None,
    ) -> TravelMatrix:
        """Travel matrix from the cache, asking the wrapped provider only for missing cells.

        Parameters
        ----------
        origins : array_like
            ``(N, 2)`` ``(lat, lon)`` degrees.
        destinations : array_like, optional
            ``(M, 2)`` ``(lat, lon)`` degrees; the origins when omitted.
        departure : datetime.datetime, optional
            Timezone-aware departure, rounded down to `departure_resolution_s`.
        area : str, optional
            Service-area key, passed on and part of the cache key.

        Returns
        -------
        TravelMatrix
            As the wrapped provider would answer for the rounded points and departure.

        Raises
        ------
        geo.errors.InvalidCoordinates
            If a point is malformed or out of range.
        geo.errors.GeoError
            If ``departure`` is naive.
        geo.errors.ProviderError
            If the wrapped provider fails.
        """
        a = np.round(as_points(origins, "origins"), self.precision)
        b = a
        if destinations is not None:
            b = np.round(as_points(destinations, "destinations"), self.precision)
        bucket = self._bucket(departure)
        with self._lock:
            self._requests += 1
            self._cells_served += a.shape[0] * b.shape[0]
            unique, inverse = np.unique(np.concatenate([a, b]), axis=0, return_inverse=True)
            inverse = inverse.reshape(-1)
            if unique.shape[0] > self.max_points:
                return self._ask(a, b, bucket, area)
            key = (self.provider.name, area, bucket)
            table = self._table(key)
            slots = self._assign(table, unique)
            o_slots, d_slots = slots[inverse[: a.shape[0]]], slots[inverse[a.shape[0] :]]
            return self._answer(table, o_slots, d_slots, bucket, area)

    def _bucket(self, departure: datetime | None) -> datetime | None:
        if departure is None:
            return None
        if departure.tzinfo is None or departure.utcoffset() is None:
            raise GeoError("departure", "must be timezone-aware (e.g. 2025-03-03T08:15:00+00:00)")
        step = self.departure_resolution_s
        start = math.floor(departure.timestamp() / step) * step
        return datetime.fromtimestamp(start, tz=departure.tzinfo)

    def _ask(
        self,
        a: npt.NDArray[np.float64],
        b: npt.NDArray[np.float64],
        bucket: datetime | None,
        area: str | None,
    ) -> TravelMatrix:
        self._provider_calls += 1
        self._cells_computed += a.shape[0] * b.shape[0]
        return self.provider.matrix(a, b, departure=bucket, area=area)

    def _table(self, key: Hashable) -> _Table:
        """The context's table, made most recently used."""
        table = self._tables.pop(key, None)
        if table is None:
            # Sized by _make_room, which knows what the other tables hold.
            table = _Table(0)
        self._tables[key] = table
        return table

    def _assign(self, table: _Table, unique: npt.NDArray[np.float64]) -> npt.NDArray[np.intp]:
        """Slots of the request's distinct points, creating slots for new ones."""
        keys = [(float(lat), float(lon)) for lat, lon in unique]
        slots = np.array([table.slots.get(k, -1) for k in keys], dtype=np.intp)
        new = np.flatnonzero(slots < 0)
        if table.size + new.shape[0] > table.capacity:
            slots = self._make_room(table, slots, new.shape[0])
        first = table.size
        for offset, i in enumerate(new):
            slot = first + offset
            table.slots[keys[i]] = slot
            slots[i] = slot
        table.size += new.shape[0]
        fresh = slice(first, table.size)
        table.coords[fresh] = unique[new]
        # Slots are reused after compaction; stale values must not read as known.
        table.known[fresh, :] = False
        table.known[:, fresh] = False
        self._tick += 1
        table.last_used[slots] = self._tick
        return slots

    def _make_room(
        self, table: _Table, slots: npt.NDArray[np.intp], extra: int
    ) -> npt.NDArray[np.intp]:
        """Grow (evicting other tables) or compact ``table`` so ``extra`` more slots fit."""
        needed = table.size + extra
        for other in [k for k, t in self._tables.items() if t is not table]:
            if self._fits(table, min(needed, self.max_points)):
                break
            del self._tables[other]
        keep = np.arange(table.size, dtype=np.intp)
        if needed > self.max_points:
            # Drop the least recently used points the current request does not need.
            in_request = np.zeros(table.size, dtype=np.bool_)
            in_request[slots[slots >= 0]] = True
            others = np.flatnonzero(~in_request)
            drop = needed - self.max_points
            by_age = others[np.argsort(table.last_used[others], kind="stable")]
            keep = np.sort(np.concatenate([np.flatnonzero(in_request), by_age[drop:]]))
            needed = self.max_points
        capacity = min(self.max_points, max(needed, 2 * table.capacity, _MIN_CAPACITY))
        while capacity > needed and not self._fits(table, capacity):
            capacity = max(needed, capacity * 3 // 4)
        remap = table.resize(capacity, keep)
        remapped = slots.copy()
        known = slots >= 0
        remapped[known] = remap[slots[known]]
        return remapped

    def _fits(self, table: _Table, capacity: int) -> bool:
        """Whether ``table`` at ``capacity`` slots fits beside the other tables."""
        others = sum(t.nbytes for t in self._tables.values() if t is not table)
        return others + _CELL_BYTES * capacity**2 + _SLOT_BYTES * capacity <= self.max_bytes

    def _answer(
        self,
        table: _Table,
        o_slots: npt.NDArray[np.intp],
        d_slots: npt.NDArray[np.intp],
        bucket: datetime | None,
        area: str | None,
    ) -> TravelMatrix:
        rows = np.unique(o_slots)
        cols = np.unique(d_slots)
        known = table.known[np.ix_(rows, cols)]
        # Rows never seen with any of these columns (new origins): ask for them against all
        # columns. For the other rows, ask only for the columns some of them lack.
        blank = ~known.any(axis=1)
        blocks = []
        if blank.any():
            blocks.append((rows[blank], cols))
        partial = ~blank
        if partial.any():
            lacking = ~known[partial]
            need_cols = lacking.any(axis=0)
            need_rows = lacking[:, need_cols].any(axis=1)
            if need_cols.any():
                blocks.append((rows[partial][need_rows], cols[need_cols]))
        uncached: list[tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], TravelMatrix]] = []
        for block_rows, block_cols in blocks:
            result = self._ask(table.coords[block_rows], table.coords[block_cols], bucket, area)
            if result.provider != self.provider.name:
                uncached.append((block_rows, block_cols, result))
                continue
            grid = np.ix_(block_rows, block_cols)
            table.durations[grid] = result.durations
            table.distances[grid] = result.distances
            table.known[grid] = True
            table.estimated = result.estimated
        durations = table.durations[np.ix_(o_slots, d_slots)]
        distances = table.distances[np.ix_(o_slots, d_slots)]
        if not uncached:
            return TravelMatrix(durations, distances, self.provider.name, table.estimated)
        lookup = np.full(table.capacity, -1, dtype=np.intp)
        for block_rows, block_cols, result in uncached:
            lookup[block_rows] = np.arange(block_rows.shape[0])
            r = lookup[o_slots]
            lookup[block_rows] = -1
            lookup[block_cols] = np.arange(block_cols.shape[0])
            c = lookup[d_slots]
            lookup[block_cols] = -1
            out_r, out_c = np.flatnonzero(r >= 0), np.flatnonzero(c >= 0)
            grid = np.ix_(r[out_r], c[out_c])
            durations[np.ix_(out_r, out_c)] = result.durations[grid]
            distances[np.ix_(out_r, out_c)] = result.distances[grid]
        return TravelMatrix(durations, distances, uncached[0][2].provider, estimated=True)
