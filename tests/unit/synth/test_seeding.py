import re

from theragraph.synth.seeding import derive_token, derive_uid, patient_rng

UID = re.compile(r"^2\.25\.(0|[1-9][0-9]*)$")


def test_derived_uid_is_a_valid_short_2_25_uid():
    uid = derive_uid(7, 3, "series", 1)
    assert UID.match(uid)
    assert len(uid) <= 64


def test_derived_uids_are_stable_and_distinct():
    assert derive_uid(7, 3, "x") == derive_uid(7, 3, "x")
    assert derive_uid(7, 3, "x") != derive_uid(7, 4, "x")
    assert derive_uid(7, 3, "x") != derive_uid(8, 3, "x")


def test_token_length_and_alphabet():
    assert re.fullmatch(r"[0-9a-f]{12}", derive_token(1, "p", length=12))


def test_patient_streams_are_reproducible_and_independent():
    a = patient_rng(5, 1).uniform(size=3)
    assert (a == patient_rng(5, 1).uniform(size=3)).all()
    assert not (a == patient_rng(5, 2).uniform(size=3)).all()
