"""DVH statistics against analytic values: a sphere in a uniform and in a linear-gradient field.

RT Dose and RTSTRUCT are real files written with pydicom into tmp_path, read back with
theragraph.ingest.rt. Sphere of radius R = 20 mm at the origin on a 1 mm grid.
Analytic cumulative DVH of the gradient field D(x) = a + b·x: the volume receiving ≥ a + b·t is
the spherical cap beyond x = t, V = π h²(3R − h)/3 with h = R − t, i.e. a fraction
h²(3R − h)/(4R³); D_p solves fraction = p/100.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file

from tests.builders_rt import circle, sphere_contours, write_rtdose, write_rtstruct, write_seg
from theragraph.derive.dvh import DvhError, dose_volume, load_settings
from theragraph.ingest.rt import read_dose_grid, read_structure_set

R = 20.0
N = 50
ORIGIN = (-24.5, -24.5, -24.5)
CENTRES = np.arange(N) - 24.5  # voxel centres along each axis (mm)
SPHERE_ML = 4.0 / 3.0 * math.pi * R**3 / 1000.0


def _cap_fraction(t: float) -> float:
    h = R - t
    return h * h * (3 * R - h) / (4 * R**3)


def _cap_t(fraction: float) -> float:
    lo, hi = -R, R  # _cap_fraction decreases from 1 to 0 over [-R, R]
    for _ in range(100):
        mid = (lo + hi) / 2
        if _cap_fraction(mid) > fraction:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def _read(pseudonymizer, dose_path: Path, struct_path: Path):
    grid = read_dose_grid(pydicom.dcmread(dose_path), pseudonymizer)
    structures = read_structure_set(pydicom.dcmread(struct_path), pseudonymizer)
    return grid, structures


@pytest.fixture
def sphere_struct(tmp_path: Path) -> Path:
    path = tmp_path / "rtstruct.dcm"
    write_rtstruct(path, {7: ("sphere", sphere_contours(R, CENTRES))})
    return path


def test_sphere_in_uniform_field(tmp_path: Path, sphere_struct: Path, pseudonymizer) -> None:
    dose = np.full((N, N, N), 12.0)
    write_rtdose(tmp_path / "rtdose.dcm", dose, origin=ORIGIN, spacing_mm=1.0)
    grid, structures = _read(pseudonymizer, tmp_path / "rtdose.dcm", sphere_struct)
    stats = dose_volume(grid, structures, structures.structures[0])
    assert stats.number == 7
    assert stats.volume_ml == pytest.approx(SPHERE_ML, rel=0.01)
    for value in (stats.mean_gy, stats.min_gy, stats.max_gy, *stats.d_percent_gy.values()):
        assert value == pytest.approx(12.0, rel=0.01)
    assert set(stats.d_percent_gy) == {2, 50, 90, 98}
    assert stats.v_gy_percent[10.0] == pytest.approx(100.0)
    assert stats.v_gy_percent[20.0] == 0.0
    assert stats.dvh_volume_percent[0] == pytest.approx(100.0)
    assert stats.dvh_dose_gy[-1] == pytest.approx(12.0)


def test_sphere_in_linear_gradient(tmp_path: Path, sphere_struct: Path, pseudonymizer) -> None:
    a, b = 20.0, 0.25  # D(x) = 20 Gy + 0.25 Gy/mm · x  (15 .. 25 Gy over the sphere)
    dose = np.broadcast_to(a + b * CENTRES[None, None, :], (N, N, N)).copy()
    write_rtdose(tmp_path / "rtdose.dcm", dose, origin=ORIGIN, spacing_mm=1.0)
    grid, structures = _read(pseudonymizer, tmp_path / "rtdose.dcm", sphere_struct)
    stats = dose_volume(grid, structures, structures.structures[0])
    assert stats.volume_ml == pytest.approx(SPHERE_ML, rel=0.01)
    assert stats.mean_gy == pytest.approx(a, rel=0.01)  # symmetric about x = 0
    assert stats.max_gy == pytest.approx(a + b * R, rel=0.01)
    assert stats.min_gy == pytest.approx(a - b * R, rel=0.01)
    # voxel-centre sampling bound: within half a voxel of the sphere's surface
    assert abs(stats.max_gy - (a + b * R)) <= b * 0.5 + 1e-9
    for p in (2, 50, 90, 98):
        analytic = a + b * _cap_t(p / 100.0)
        assert stats.d_percent_gy[p] == pytest.approx(analytic, rel=0.01), p
    assert stats.d_percent_gy[50] == pytest.approx(a, rel=0.01)
    # V20Gy = half the sphere; V(22.5 Gy) = cap beyond x = 10 mm = 10²·50/(4·8000) = 15.625 %
    assert stats.v_gy_percent[20.0] == pytest.approx(50.0, rel=0.01)
    # The stored curve follows the analytic cumulative DVH everywhere to within the voxel-centre
    # sampling bound: half a voxel (0.5 mm) times the steepest slope of the cap fraction,
    # 3/(4R) per mm at x = 0, i.e. 100 · 0.5 · 3/80 = 1.875 percentage points.
    assert len(stats.dvh_dose_gy) == load_settings().curve_points
    for dose_gy, volume in zip(stats.dvh_dose_gy, stats.dvh_volume_percent, strict=True):
        t = min(max((dose_gy - a) / b, -R), R)
        assert volume == pytest.approx(100.0 * _cap_fraction(t), abs=1.9), dose_gy


def test_seg_segment_gives_the_same_sphere(tmp_path: Path, pseudonymizer) -> None:
    z, y, x = np.meshgrid(CENTRES, CENTRES, CENTRES, indexing="ij")
    mask = x**2 + y**2 + z**2 <= R**2
    write_seg(tmp_path / "seg.dcm", mask, origin=ORIGIN, spacing_mm=1.0, segment_number=2)
    write_rtdose(tmp_path / "rtdose.dcm", np.full((N, N, N), 3.0), origin=ORIGIN, spacing_mm=1.0)
    grid, segs = _read(pseudonymizer, tmp_path / "rtdose.dcm", tmp_path / "seg.dcm")
    stats = dose_volume(grid, segs, segs.structures[0])
    assert (stats.structure_kind, stats.number) == ("segment", 2)
    assert stats.volume_ml == pytest.approx(SPHERE_ML, rel=0.01)
    assert stats.mean_gy == pytest.approx(3.0)


def test_ring_with_hole_uses_even_odd_rule(tmp_path: Path, pseudonymizer) -> None:
    planes = CENTRES[np.abs(CENTRES) < 5]
    contours = [c for z in planes for c in (circle(20.0, z), circle(10.0, z))]
    write_rtstruct(tmp_path / "rtstruct.dcm", {1: ("ring", contours)})
    write_rtdose(tmp_path / "rtdose.dcm", np.full((N, N, N), 1.0), origin=ORIGIN, spacing_mm=1.0)
    grid, structures = _read(pseudonymizer, tmp_path / "rtdose.dcm", tmp_path / "rtstruct.dcm")
    stats = dose_volume(grid, structures, structures.structures[0])
    expected_ml = math.pi * (20.0**2 - 10.0**2) * len(planes) / 1000.0
    assert stats.volume_ml == pytest.approx(expected_ml, rel=0.01)


def test_pydicom_rtdose_and_rtstruct_produce_statistics_without_error(
    pseudonymizer, tmp_path
) -> None:
    # pydicom's rtdose.dcm (10x10x15 grid at z -761.87..-691.87 mm, DoseUnits RELATIVE) and
    # rtstruct.dcm (contours at z -200..-180 mm, other frame of reference) do not overlap:
    # every structure is reported with a stable code, none raises anything else.
    dose_ds = pydicom.dcmread(get_testdata_file("rtdose.dcm"))
    grid = read_dose_grid(dose_ds, pseudonymizer)
    assert grid.dose.shape == (15, 10, 10)
    assert grid.dose_units == "RELATIVE"
    assert grid.dose.max() == pytest.approx(1254000 * 1e-6)
    structures = read_structure_set(
        pydicom.dcmread(get_testdata_file("rtstruct.dcm"), force=True), pseudonymizer
    )
    codes = {}
    for structure in structures.structures:
        with pytest.raises(DvhError) as info:
            dose_volume(grid, structures, structure)
        codes[structure.number] = info.value.code
    assert codes == {1: "dvh.outside-dose-grid", 2: "dvh.not-a-volume", 3: "dvh.not-a-volume"}
    # A box ROI drawn in rtdose.dcm's own frame gives statistics equal to numpy on those voxels.
    xs = grid.origin_mm[0] + np.arange(10) * 10.0
    box = [
        np.array(
            [
                [xs[2] - 1, grid.origin_mm[1] + 19, z],
                [xs[6] + 1, grid.origin_mm[1] + 19, z],
                [xs[6] + 1, grid.origin_mm[1] + 71, z],
                [xs[2] - 1, grid.origin_mm[1] + 71, z],
            ]
        )
        for z in grid.origin_mm[2] + np.asarray(grid.frame_offsets_mm)
    ]
    write_rtstruct(tmp_path / "box.dcm", {1: ("box", box)})
    box_set = read_structure_set(pydicom.dcmread(tmp_path / "box.dcm"), pseudonymizer)
    stats = dose_volume(grid, box_set, box_set.structures[0])
    expected = grid.dose[:, 2:8, 2:7]
    assert stats.voxel_count == expected.size
    assert stats.mean_gy == pytest.approx(expected.mean())
    assert stats.max_gy == pytest.approx(expected.max())
    assert stats.min_gy == pytest.approx(expected.min())


def test_settings_come_from_the_data_file() -> None:
    settings = load_settings()
    assert 20.0 in settings.v_thresholds_gy
    assert settings.d_percents == (2, 50, 90, 98)
