"""Tests for the optional geocoder (geo.geocoding), with a fake geopy geocoder and clock."""

from types import SimpleNamespace

import pytest
from geopy import exc as geopy_exc
from geopy.geocoders import Nominatim

from geo.errors import AddressNotFound, GeocodingDisabled, GeocodingFailed, GeoError
from geo.geocoding import Geocoder, GeocoderConfig, GeocodeResult

DOWNING_STREET = SimpleNamespace(
    latitude=51.5034, longitude=-0.1276, address="10 Downing Street, London SW1A 2AA"
)
ON = GeocoderConfig(enabled=True, user_agent="onsite-tests/1.0 (ops@example.org)")


class FakeTime:
    """A monotonic clock that only moves when slept on (or told to)."""

    def __init__(self):
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


class FakeNominatim:
    """Answers from a script: per query, a list of results or exceptions consumed in order."""

    def __init__(self, script):
        self.script = {q: list(answers) for q, answers in script.items()}
        self.calls: list[tuple[str, dict]] = []

    def geocode(self, query, *, exactly_one=True, timeout=None, **kwargs):
        self.calls.append((query, {"exactly_one": exactly_one, "timeout": timeout, **kwargs}))
        answers = self.script.get(query, [None])
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def make(script, config=ON):
    fake, time = FakeNominatim(script), FakeTime()
    geocoder = Geocoder(config, backend=fake, clock=time.clock, sleep=time.sleep)
    return geocoder, fake, time


def test_disabled_by_default_refuses_with_a_clear_error():
    """Without configuration, geocoding refuses and tells the caller to send coordinates."""
    fake = FakeNominatim({"x": [DOWNING_STREET]})
    geocoder = Geocoder(backend=fake)
    assert geocoder.enabled is False
    with pytest.raises(GeocodingDisabled) as info:
        geocoder.geocode("10 Downing Street", field="site.address")
    assert info.value.field == "site.address"
    assert "latitude and longitude" in info.value.message
    assert fake.calls == []


def test_found_address_and_cache_by_normalised_text():
    """The first lookup asks the service; the same address in other case/spacing does not."""
    geocoder, fake, _ = make({"10 Downing Street, London": [DOWNING_STREET]})
    result = geocoder.geocode("  10 Downing Street, London ")
    assert result == GeocodeResult(51.5034, -0.1276, "10 Downing Street, London SW1A 2AA")
    assert result.point == (51.5034, -0.1276)
    assert geocoder.geocode("10  downing street, LONDON") == result
    assert fake.calls == [("10 Downing Street, London", {"exactly_one": True, "timeout": 10.0})]


def test_unknown_address_is_refused_and_the_miss_is_cached():
    """No match raises AddressNotFound naming the field; asking again does not hit the service."""
    geocoder, fake, _ = make({})
    for _ in range(2):
        with pytest.raises(AddressNotFound) as info:
            geocoder.geocode("Nowhere Lane 99", field="sites[0].address")
        assert info.value.field == "sites[0].address"
        assert info.value.message == "no place found for 'Nowhere Lane 99'"
    assert len(fake.calls) == 1


def test_blank_address_is_refused_without_a_call():
    """A blank address is not sent to the service."""
    geocoder, fake, _ = make({})
    with pytest.raises(AddressNotFound, match="empty"):
        geocoder.geocode("   ")
    assert fake.calls == []


def test_requests_are_spaced_by_the_minimum_delay():
    """Three lookups in a burst wait 1 s each after the first; time already elapsed counts."""
    geocoder, fake, time = make({})
    for address in ("a", "b", "c"):
        with pytest.raises(AddressNotFound):
            geocoder.geocode(address)
    assert time.sleeps == [1.0, 1.0]
    time.now += 0.4
    with pytest.raises(AddressNotFound):
        geocoder.geocode("d")
    assert time.sleeps == [1.0, 1.0, 0.6]
    assert len(fake.calls) == 4


def test_timeout_is_retried_with_backoff():
    """A timeout then a match: one 2 s backoff (which also covers the rate delay), then success."""
    geocoder, fake, time = make({"Leeds": [geopy_exc.GeocoderTimedOut("slow"), DOWNING_STREET]})
    assert geocoder.geocode("Leeds").lat == 51.5034
    assert time.sleeps == [2.0]
    assert len(fake.calls) == 2


def test_rate_limited_answer_waits_retry_after():
    """A rate-limit answer with retry_after=5 waits 5 s before trying again."""
    limited = geopy_exc.GeocoderRateLimited("too many", retry_after=5)
    geocoder, _, time = make({"York": [limited, DOWNING_STREET]})
    geocoder.geocode("York")
    assert time.sleeps == [5.0]


def test_persistent_unavailability_gives_up_naming_the_provider():
    """Always unavailable: 3 attempts (2 retries at 2 s and 4 s), then a retryable failure."""
    geocoder, fake, time = make({"Hull": [geopy_exc.GeocoderUnavailable("503")]})
    with pytest.raises(GeocodingFailed) as info:
        geocoder.geocode("Hull", field="site.address")
    assert len(fake.calls) == 3
    assert time.sleeps == [2.0, 4.0]
    assert info.value.provider == "nominatim"
    assert info.value.retryable is True
    assert info.value.field == "site.address"
    assert info.value.message == ("nominatim: service unavailable (503); gave up after 3 attempts")


def test_permanent_service_error_is_not_retried():
    """A refused query fails at once and is not cached as a miss."""
    geocoder, fake, time = make({"Bad": [geopy_exc.GeocoderQueryError("bad query")]})
    for _ in range(2):
        with pytest.raises(GeocodingFailed) as info:
            geocoder.geocode("Bad")
        assert info.value.retryable is False
        assert info.value.message == "nominatim: query refused (bad query)"
    assert len(fake.calls) == 2
    assert time.sleeps == [1.0]  # only the rate-limit spacing, no backoff


def test_answer_without_valid_coordinates_is_a_failure():
    """A place with latitude 123 from the service is reported as a service failure."""
    broken = SimpleNamespace(latitude=123.0, longitude=0.0, address="?")
    geocoder, _, _ = make({"Odd": [broken]})
    with pytest.raises(GeocodingFailed, match="without valid coordinates"):
        geocoder.geocode("Odd")


def test_country_codes_and_timeout_are_passed_to_the_service():
    """Configured country codes and timeout reach geopy's geocode call."""
    config = GeocoderConfig(
        enabled=True, user_agent="onsite-tests", country_codes=("gb",), timeout_s=4.0
    )
    geocoder, fake, _ = make({"Leeds": [DOWNING_STREET]}, config)
    geocoder.geocode("Leeds")
    assert fake.calls == [("Leeds", {"exactly_one": True, "timeout": 4.0, "country_codes": ["gb"]})]


def test_cache_is_bounded():
    """With room for one address, a, b, a costs three lookups."""
    config = GeocoderConfig(enabled=True, user_agent="onsite-tests", cache_size=1)
    geocoder, fake, _ = make({}, config)
    for address in ("a", "b", "a"):
        with pytest.raises(AddressNotFound):
            geocoder.geocode(address)
    assert [q for q, _ in fake.calls] == ["a", "b", "a"]


def test_configured_nominatim_is_built_without_network():
    """Enabled without a backend builds geopy Nominatim with the configured URL and agent."""
    config = GeocoderConfig(
        enabled=True,
        user_agent="onsite/0.1 (ops@example.org)",
        domain="geo.example.org/",
        scheme="http",
        min_delay_s=0.0,
    )
    backend = Geocoder(config)._backend
    assert isinstance(backend, Nominatim)
    assert backend.api == "http://geo.example.org/search"
    assert backend.headers["User-Agent"] == "onsite/0.1 (ops@example.org)"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"enabled": True}, "user_agent"),
        ({"enabled": True, "user_agent": "  "}, "user_agent"),
        ({"enabled": True, "user_agent": "onsite", "min_delay_s": 0.2}, "min_delay_s"),
        ({"scheme": "ftp"}, "scheme"),
        ({"domain": "/"}, "domain"),
    ],
)
def test_config_validation_names_the_setting(kwargs, field):
    """Unusable settings, including breaking the public server's policy, are refused."""
    with pytest.raises(GeoError) as info:
        GeocoderConfig(**kwargs)
    assert info.value.field == field
