from datetime import datetime, timedelta, timezone

import pytest

from theragraph.ids import MAX_SHIFT_DAYS, Pseudonymizer


def test_uid_replacement_is_consistent_and_valid(pseudonymizer):
    a = pseudonymizer.uid("1.2.840.113619.2.55.3.1")
    assert a == pseudonymizer.uid("1.2.840.113619.2.55.3.1 ")
    assert a != pseudonymizer.uid("1.2.840.113619.2.55.3.2")
    assert a.startswith("2.25.") and len(a) <= 64
    assert all(part.isdigit() for part in a.split("."))


def test_patient_pseudonym_depends_on_secret_and_system(pseudonymizer):
    other = Pseudonymizer(b"another-secret-of-enough-length!")
    assert pseudonymizer.patient("sys", "123") != other.patient("sys", "123")
    assert pseudonymizer.patient("sys", "123") != pseudonymizer.patient("sys2", "123")
    assert "123" not in pseudonymizer.patient("sys", "123")


def test_date_shift_is_per_patient_whole_days_and_keeps_time(pseudonymizer):
    shift = pseudonymizer.date_shift("p1")
    assert shift == pseudonymizer.date_shift("p1")
    assert timedelta(days=-MAX_SHIFT_DAYS) <= shift < timedelta(0)
    assert shift.seconds == 0 and shift.microseconds == 0
    moment = datetime(2024, 3, 1, 10, 30, tzinfo=timezone(timedelta(hours=1)))
    shifted = pseudonymizer.shift_datetime(moment, "p1")
    assert shifted.time() == moment.time() and shifted.tzinfo == moment.tzinfo


def test_short_secret_is_refused():
    with pytest.raises(ValueError):
        Pseudonymizer(b"short")


def test_repr_hides_secret(pseudonymizer):
    assert "secret-0123" not in repr(pseudonymizer)


def test_checksum_is_keyed_short_and_changes_with_the_content(pseudonymizer):
    first = pseudonymizer.checksum("content-digest-1")
    assert first == pseudonymizer.checksum("content-digest-1")
    assert first != pseudonymizer.checksum("content-digest-2")
    assert first != Pseudonymizer(b"another-secret-0123456789").checksum("content-digest-1")
    # 88 bits, 15 base64url characters: short enough for pyoxigraph to keep inline
    assert len(first) == 15 and set(first) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_digest_is_hmac_sha256_of_domain_and_value(pseudonymizer):
    import hashlib
    import hmac

    key = pseudonymizer._key
    for domain, value in [("fhir", "Observation/o1"), ("patient", "sys|MRN1"), ("uid", "1.2.3")]:
        expected = hmac.new(key, f"{domain}\x1f{value}".encode(), hashlib.sha256).digest()
        assert pseudonymizer._digest(domain, value) == expected
    # the precomputed key schedule is copied, never updated in place: a second call agrees
    again = pseudonymizer._digest("fhir", "Observation/o1")
    assert again == pseudonymizer._digest("fhir", "Observation/o1")


def test_pseudonymizer_pickles_for_spawned_workers(pseudonymizer):
    import pickle

    copy = pickle.loads(pickle.dumps(pseudonymizer))
    assert copy.patient("sys", "MRN1") == pseudonymizer.patient("sys", "MRN1")
    assert repr(copy) == "Pseudonymizer(<secret hidden>)"
