"""Dose-volume statistics of RTSTRUCT ROIs and SEG segments on an RT Dose grid (pure numpy).

Rasterisation: a dose voxel belongs to an ROI when its centre lies inside the ROI's closed planar
contours on the nearest contour plane (even-odd rule, so holes and islands work), within half a
contour spacing; to a SEG segment when the nearest segmentation voxel is set. Doses are the
voxel-centre values (no sub-voxel interpolation); each voxel is weighted by its volume.
Statistics: mean, min, max, D_x (dose to the hottest x % of the volume), V_t (% of the volume
receiving ≥ t Gy) and the cumulative DVH. Settings come from ``src/theragraph/data/dvh.yaml``.
Axial grids only (slice normal along ±z), which covers RT Dose from planning and voxel dosimetry.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import yaml

from theragraph.errors import TheragraphError
from theragraph.records.dosimetry import (
    DoseGridRecord,
    DoseVolumeRecord,
    StructureRecord,
    StructureSetRecord,
)
from theragraph.resources import data_path


class DvhError(TheragraphError):
    """A structure's DVH cannot be computed (not a volume, outside the grid, odd geometry)."""

    code = "dvh.failed"


@dataclass(frozen=True, slots=True)
class DvhSettings:
    """Which statistics to compute (from dvh.yaml)."""

    d_percents: tuple[int, ...]
    v_thresholds_gy: tuple[float, ...]
    curve_points: int
    curve_digits: int


@lru_cache
def load_settings() -> DvhSettings:
    """Return the settings of ``src/theragraph/data/dvh.yaml``."""
    data: dict[str, Any] = yaml.safe_load(data_path("dvh.yaml").read_text())
    return DvhSettings(
        d_percents=tuple(int(x) for x in data["d_percents"]),
        v_thresholds_gy=tuple(float(x) for x in data["v_thresholds_gy"]),
        curve_points=int(data["curve_points"]),
        curve_digits=int(data["curve_digits"]),
    )


def _grid_geometry(grid: DoseGridRecord) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return in-plane voxel-centre x, y (rows, cols), frame z positions and frame thicknesses."""
    row_dir = np.asarray(grid.row_direction)
    col_dir = np.asarray(grid.column_direction)
    normal = np.cross(row_dir, col_dir)
    if abs(abs(normal[2]) - 1.0) > 1e-3:
        raise DvhError(
            "dose grid is not axial; only axial RT Dose grids are supported",
            code="dvh.unsupported-geometry",
        )
    frames, rows, cols = grid.dose.shape
    c = np.arange(cols) * grid.column_spacing_mm
    r = np.arange(rows) * grid.row_spacing_mm
    origin = np.asarray(grid.origin_mm)
    points = origin[None, None, :] + c[None, :, None] * row_dir + r[:, None, None] * col_dir
    offsets = np.asarray(grid.frame_offsets_mm, dtype=np.float64)
    z = origin[2] + offsets * normal[2]
    if frames > 1:
        thickness = np.abs(np.gradient(offsets))
    else:
        thickness = np.asarray([min(grid.row_spacing_mm, grid.column_spacing_mm)])
    return points[..., 0], points[..., 1], z, thickness


def _inside_polygon(px: np.ndarray, py: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Even-odd point-in-polygon test of points against one closed polygon (x, y columns)."""
    inside = np.zeros(px.shape, dtype=bool)
    x, y = polygon[:, 0], polygon[:, 1]
    xj, yj = np.roll(x, 1), np.roll(y, 1)
    lo_x, hi_x, lo_y, hi_y = x.min(), x.max(), y.min(), y.max()
    box = (px >= lo_x) & (px <= hi_x) & (py >= lo_y) & (py <= hi_y)
    if not box.any():
        return inside
    bx, by = px[box], py[box]
    hit = np.zeros(bx.shape, dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        for i in range(len(x)):
            crosses = (y[i] > by) != (yj[i] > by)
            x_cross = (xj[i] - x[i]) * (by - y[i]) / (yj[i] - y[i]) + x[i]
            hit ^= crosses & (bx < x_cross)
    inside[box] = hit
    return inside


def roi_mask(grid: DoseGridRecord, structure: StructureRecord) -> np.ndarray:
    """Return the boolean mask (frames, rows, cols) of an ROI's closed planar contours.

    Raises:
        DvhError: ``dvh.not-a-volume`` when the ROI has no closed planar contour.
    """
    planes: dict[float, list[np.ndarray]] = {}
    for contour, kind in zip(structure.contours, structure.geometric_types, strict=True):
        if kind == "CLOSED_PLANAR" and len(contour) >= 3:
            planes.setdefault(round(float(contour[:, 2].mean()), 3), []).append(contour[:, :2])
    if not planes:
        raise DvhError(
            "the ROI has no closed planar contour (a point or open curve, not a volume)",
            code="dvh.not-a-volume",
        )
    px, py, z, thickness = _grid_geometry(grid)
    plane_z = np.asarray(sorted(planes))
    spacing = float(np.median(np.diff(plane_z))) if len(plane_z) > 1 else float(thickness.max())
    tolerance = spacing / 2.0 + 1e-3
    mask = np.zeros(grid.dose.shape, dtype=bool)
    for k, zk in enumerate(z):
        nearest = plane_z[np.argmin(np.abs(plane_z - zk))]
        if abs(nearest - zk) > tolerance:
            continue
        for polygon in planes[float(nearest)]:
            mask[k] ^= _inside_polygon(px, py, polygon)
    return mask


def segment_mask(grid: DoseGridRecord, structure: StructureRecord) -> np.ndarray:
    """Return the mask of a SEG segment resampled (nearest voxel) onto the dose grid."""
    px, py, z, _ = _grid_geometry(grid)
    origins = np.asarray(structure.mask_origins_mm)
    row_dir = np.asarray(structure.mask_row_direction)
    col_dir = np.asarray(structure.mask_column_direction)
    row_spacing, col_spacing = structure.mask_spacing_mm
    seg_z = origins[:, 2]
    spacing = float(np.median(np.abs(np.diff(np.sort(seg_z))))) if len(seg_z) > 1 else row_spacing
    mask = np.zeros(grid.dose.shape, dtype=bool)
    n_rows, n_cols = structure.mask.shape[1:]
    for k, zk in enumerate(z):
        f = int(np.argmin(np.abs(seg_z - zk)))
        if abs(seg_z[f] - zk) > spacing / 2.0 + 1e-3:
            continue
        dx, dy = px - origins[f, 0], py - origins[f, 1]
        c = np.rint((dx * row_dir[0] + dy * row_dir[1]) / col_spacing).astype(int)
        r = np.rint((dx * col_dir[0] + dy * col_dir[1]) / row_spacing).astype(int)
        ok = (c >= 0) & (c < n_cols) & (r >= 0) & (r < n_rows)
        frame = np.zeros(px.shape, dtype=bool)
        frame[ok] = structure.mask[f][r[ok], c[ok]]
        mask[k] = frame
    return mask


def dose_volume(
    grid: DoseGridRecord,
    structure_set: StructureSetRecord,
    structure: StructureRecord,
    *,
    settings: DvhSettings | None = None,
) -> DoseVolumeRecord:
    """Compute the statistics and cumulative DVH of one structure on one dose grid.

    Raises:
        DvhError: ``dvh.not-a-volume``, ``dvh.outside-dose-grid`` (no voxel centre inside the
            structure) or ``dvh.unsupported-geometry``.
    """
    settings = settings or load_settings()
    mask = roi_mask(grid, structure) if structure.kind == "roi" else segment_mask(grid, structure)
    if not mask.any():
        raise DvhError(
            "the structure covers no voxel of the dose grid (different frame of "
            "reference, or outside the calculated volume)",
            code="dvh.outside-dose-grid",
        )
    _, _, _, thickness = _grid_geometry(grid)
    voxel_area = grid.row_spacing_mm * grid.column_spacing_mm
    weights_frame = np.broadcast_to(thickness[:, None, None] * voxel_area, grid.dose.shape)
    doses = grid.dose[mask]
    weights = weights_frame[mask]
    total = float(weights.sum())
    order = np.argsort(-doses, kind="stable")
    hot_first, cum = doses[order], np.cumsum(weights[order]) / total
    d_values = {p: float(np.interp(p / 100.0, cum, hot_first)) for p in settings.d_percents}
    v_values = {
        t: 100.0 * float(weights[doses >= t].sum()) / total for t in settings.v_thresholds_gy
    }
    max_dose = float(doses.max())
    curve_dose = np.linspace(0.0, max_dose, settings.curve_points)
    ascending = np.sort(doses)
    asc_weights = weights[np.argsort(doses, kind="stable")]
    tail = np.concatenate([np.cumsum(asc_weights[::-1])[::-1], [0.0]])
    curve_volume = 100.0 * tail[np.searchsorted(ascending, curve_dose, side="left")] / total
    digits = settings.curve_digits
    return DoseVolumeRecord(
        rtdose_sop_uid=grid.sop_uid,
        rtdose_series_uid=grid.series_uid,
        structure_sop_uid=structure_set.sop_uid,
        structure_series_uid=structure_set.series_uid,
        structure_kind=structure.kind,
        number=structure.number,
        name=structure.name,
        voxel_count=int(mask.sum()),
        volume_ml=total / 1000.0,
        mean_gy=float((doses * weights).sum() / total),
        min_gy=float(doses.min()),
        max_gy=max_dose,
        d_percent_gy=d_values,
        v_gy_percent=v_values,
        dvh_dose_gy=tuple(float(f"{v:.{digits}g}") for v in curve_dose),
        dvh_volume_percent=tuple(float(f"{v:.{digits}g}") for v in curve_volume),
        dose_units=grid.dose_units,
    )
