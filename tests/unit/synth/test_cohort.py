from theragraph.synth.cohort import draw_patient, voi_curve
from theragraph.synth.identity import draw_mrn


def test_patient_is_a_pure_function_of_seed_and_index():
    assert draw_patient(3, 5) == draw_patient(3, 5)
    assert draw_patient(3, 5).person != draw_patient(3, 6).person


def test_record_numbers_are_unique_within_a_cohort():
    mrns = {draw_mrn(42, i) for i in range(5000)}
    assert len(mrns) == 5000


def test_both_settings_with_their_nominal_schedules():
    patients = [draw_patient(1, i) for i in range(80)]
    settings = {p.setting for p in patients}
    assert settings == {"mcrpc", "net"}
    for p in patients:
        assert 1 <= len(p.cycles) <= (6 if p.setting == "mcrpc" else 4)
        assert p.setting != "mcrpc" or p.person.sex == "M"
        assert p.pet.injected_at < p.pet.started_at < p.therapy_start
        assert all(2 <= len(c.time_points) <= 4 for c in p.cycles)


def test_voi_curve_integrates_to_the_cycle_dose():
    p = draw_patient(2, 0)
    cycle = p.cycles[0]
    for voi in p.vois:
        curve = voi_curve(cycle, voi)
        assert abs(curve.a0_mbq / curve.lambda_eff_per_h - curve.tia_mbq_h) < 1e-6 * curve.tia_mbq_h
        assert abs(curve.dose_gy - voi.gy_per_gbq * cycle.activity_gbq) < 1e-9


def test_lesion_uptake_and_dose_are_correlated():
    import numpy as np

    suv, gy = [], []
    for i in range(150):
        for lesion in draw_patient(4, i).lesions:
            suv.append(np.log(lesion.suv_mean))
            gy.append(np.log(lesion.gy_per_gbq))
    assert np.corrcoef(suv, gy)[0, 1] > 0.3
