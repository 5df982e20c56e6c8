"""A small on-disk cohort covering every supported modality, references and broken files."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pydicom.uid import generate_uid

from tests.dicom_builders import (
    LABELMAP_SEG,
    ct_dataset,
    mr_dataset,
    nm_dataset,
    rtdose_dataset,
    rtplan_dataset,
    rtstruct_dataset,
    seg_dataset,
    write,
    frame_uid,
    write_pet_series,
)


@dataclass
class Cohort:
    """Paths and ORIGINAL UIDs of the written cohort (for PHI and reference checks)."""

    root: Path
    uids: dict[str, str] = field(default_factory=dict)
    all_uids: list[str] = field(default_factory=list)
    valid_files: int = 0


def write_cohort(root: Path, *, junk: bool = True) -> Cohort:
    """Write PET, CT, MR, NM, RTSTRUCT, SEG, label-map SEG, RTPLAN and RTDOSE, plus junk."""
    cohort = Cohort(root)
    study = generate_uid()
    _, pet, pet_sops = write_pet_series(root / "pet", 3, study_uid=study)
    ct = generate_uid()
    ct_sops = []
    for i in range(2):
        ds = ct_dataset(study_uid=study, series_uid=ct, index=i)
        ct_sops.append(ds.SOPInstanceUID)
        write(ds, root / "ct" / f"img{i}")
    mr = generate_uid()
    mr_ds = mr_dataset(study_uid=study, series_uid=mr)
    write(mr_ds, root / "mr" / "no-preamble.bin", preamble=False)  # no preamble, no File Meta
    nm = generate_uid()
    write(nm_dataset(study_uid=study, series_uid=nm), root / "nm" / "spect")
    rtstruct = generate_uid()
    ss = rtstruct_dataset(study_uid=study, series_uid=rtstruct, referenced_series=ct, referenced_sops=ct_sops)
    write(ss, root / "rt" / "rtstruct")
    seg = generate_uid()
    seg_ds = seg_dataset(study_uid=study, series_uid=seg, referenced_series=pet, referenced_sops=pet_sops)
    write(seg_ds, root / "seg" / "seg")
    labelmap = generate_uid()
    lm_ds = seg_dataset(study_uid=study, series_uid=labelmap, referenced_series=pet,
                        referenced_sops=pet_sops, sop_class=LABELMAP_SEG)
    write(lm_ds, root / "seg" / "labelmap")
    plan = generate_uid()
    plan_ds = rtplan_dataset(study_uid=study, series_uid=plan, structure_set_sop=ss.SOPInstanceUID)
    write(plan_ds, root / "rt" / "rtplan")
    dose = generate_uid()
    dose_ds = rtdose_dataset(study_uid=study, series_uid=dose, plan_sop=plan_ds.SOPInstanceUID,
                             structure_set_sop=ss.SOPInstanceUID)
    write(dose_ds, root / "rt" / "rtdose")
    cohort.uids = {
        "study": study, "pet": pet, "ct": ct, "mr": mr, "nm": nm, "rtstruct": rtstruct, "seg": seg,
        "labelmap": labelmap, "rtplan": plan, "rtdose": dose,
        "rtstruct_sop": ss.SOPInstanceUID, "rtplan_sop": plan_ds.SOPInstanceUID,
        "rtdose_sop": dose_ds.SOPInstanceUID, "seg_sop": seg_ds.SOPInstanceUID,
    }
    cohort.all_uids = [study, pet, ct, mr, nm, rtstruct, seg, labelmap, plan, dose, *pet_sops, *ct_sops,
                       mr_ds.SOPInstanceUID, ss.SOPInstanceUID, seg_ds.SOPInstanceUID,
                       lm_ds.SOPInstanceUID, plan_ds.SOPInstanceUID, dose_ds.SOPInstanceUID, frame_uid(study)]
    cohort.valid_files = 3 + 2 + 1 + 1 + 1 + 1 + 1 + 1 + 1
    if junk:
        (root / "junk").mkdir()
        (root / "junk" / "notes.txt").write_text("just some notes, not DICOM\n")
        raw = (root / "ct" / "img0").read_bytes()
        (root / "junk" / "truncated.dcm").write_bytes(raw[: len(raw) // 3])
        (root / "junk" / "magic-garbage.dcm").write_bytes(b"\0" * 128 + b"DICM" + b"\xff\xfe\x01" * 200)
    return cohort
