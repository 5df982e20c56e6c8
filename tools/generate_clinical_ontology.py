"""Write ontology/clinical.ttl from the term table below (labels, definitions, ranges, units).

Edit the table, then run ``python tools/generate_clinical_ontology.py`` from the repository root.
"""
C = {  # class: (label, definition, superclass, exactMatch)
"FhirResource": ("FHIR resource record", "A clinical record mapped from one FHIR R4 resource; its named graph holds everything mapped from that resource.", "prov:Entity", None),
"Condition": ("condition", "A clinical condition, problem or diagnosis (FHIR Condition).", "tg:FhirResource", None),
"PrimaryCancerCondition": ("primary cancer condition", "The primary cancer: the original or first tumour in the body (mCODE PrimaryCancerCondition).", "tg:Condition", "sct:363346000"),
"SecondaryCancerCondition": ("secondary cancer condition", "A metastatic cancer that has spread from the primary site (mCODE SecondaryCancerCondition).", "tg:Condition", "sct:128462008"),
"ConditionStage": ("condition stage", "A stage summary stated on a condition (FHIR Condition.stage) with its staging system and the assessments behind it.", "owl:Thing", None),
"ClinicalObservation": ("clinical observation", "A measurement or assertion about a patient (FHIR Observation).", "tg:FhirResource", None),
"CancerStage": ("cancer stage", "A cancer stage assessed with a staging system (mCODE CancerStage), e.g. FIGO, Binet, Rai, ISS.", "tg:ClinicalObservation", None),
"TNMStageGroup": ("TNM stage group", "The AJCC/UICC stage group derived from the T, N and M categories (mCODE TNMStageGroup); the AJCC edition is the staging system.", "tg:CancerStage", "sct:399537006"),
"TNMPrimaryTumorCategory": ("TNM primary tumour category", "The T category of the primary tumour (mCODE TNMPrimaryTumorCategory).", "tg:CancerStage", None),
"TNMRegionalNodesCategory": ("TNM regional nodes category", "The N category of regional lymph nodes (mCODE TNMRegionalNodesCategory).", "tg:CancerStage", None),
"TNMDistantMetastasesCategory": ("TNM distant metastases category", "The M category of distant metastases (mCODE TNMDistantMetastasesCategory).", "tg:CancerStage", None),
"TumorMarkerTest": ("tumour marker test", "A laboratory result of a tumour marker such as PSA, HER2 or ER (mCODE TumorMarkerTest).", "tg:ClinicalObservation", None),
"CancerDiseaseStatus": ("cancer disease status", "A clinician's qualitative judgement of the current trend of the cancer: stable, improved, worse (mCODE CancerDiseaseStatus).", "tg:ClinicalObservation", "loinc:97509-4"),
"TumorSize": ("tumour size", "Dimensions of a tumour (mCODE TumorSize); the longest dimension is normalised to millimetres.", "tg:ClinicalObservation", "loinc:21889-1"),
"GenomicVariant": ("genomic variant", "A genomic alteration found by a genetic test: gene, DNA and amino-acid change, origin (mCODE GenomicVariant).", "tg:ClinicalObservation", "loinc:69548-6"),
"GenomicRegionStudied": ("genomic region studied", "The genomic region covered by a genetic test (mCODE GenomicRegionStudied).", "tg:ClinicalObservation", None),
"GleasonScore": ("Gleason score", "The Gleason score or grade group of a prostate cancer specimen (LOINC 35266-6 and relatives).", "tg:ClinicalObservation", "loinc:35266-6"),
"HistologicGrade": ("histologic grade", "The grade of a tumour from its histology (mCODE HistologicGrade).", "tg:ClinicalObservation", None),
"HistologicBehaviorAndType": ("histologic behaviour and type", "Histologic behaviour and type of a tumour (mCODE HistologicBehaviorAndType).", "tg:ClinicalObservation", None),
"PerformanceStatus": ("performance status", "ECOG, Karnofsky or Lansky performance status (mCODE performance status profiles).", "tg:ClinicalObservation", None),
"Comorbidities": ("comorbidities", "Comorbid conditions that affect cancer treatment (mCODE Comorbidities).", "tg:ClinicalObservation", None),
"LaboratoryObservation": ("laboratory observation", "A laboratory result (US Core laboratory Observation): LOINC-coded, value in a UCUM unit normalised per LOINC code.", "tg:ClinicalObservation", None),
"ObservationComponent": ("observation component", "One component of an observation (FHIR Observation.component) with its own code and value.", "owl:Thing", None),
"DiagnosticReport": ("diagnostic report", "A report grouping results (FHIR DiagnosticReport).", "tg:FhirResource", None),
"GenomicsReport": ("genomics report", "A report of a genetic test (mCODE GenomicsReport).", "tg:DiagnosticReport", None),
"Procedure": ("procedure", "An action performed on a patient (FHIR Procedure).", "tg:FhirResource", None),
"CancerRelatedSurgicalProcedure": ("cancer-related surgical procedure", "A surgical action addressing a cancer condition (mCODE CancerRelatedSurgicalProcedure).", "tg:Procedure", None),
"RadiotherapyCourseSummary": ("radiotherapy course summary", "A summary of a course of radiotherapy: modality, technique, sessions, dose per volume (mCODE RadiotherapyCourseSummary).", "tg:Procedure", "sct:1217123003"),
"RadiotherapyDoseDeliveredToVolume": ("radiotherapy dose delivered to volume", "The total dose and fractions delivered to one treatment volume in a radiotherapy course.", "owl:Thing", None),
"BodyStructure": ("body structure", "An anatomical structure of a patient (FHIR BodyStructure).", "tg:FhirResource", None),
"Tumor": ("tumour", "A tumour as a body structure, tracked over time (mCODE Tumor).", "tg:BodyStructure", None),
"RadiotherapyVolume": ("radiotherapy volume", "A volume of the body targeted by radiotherapy (mCODE RadiotherapyVolume).", "tg:BodyStructure", None),
"MedicationRequest": ("medication request", "An order or plan for a medication (FHIR MedicationRequest).", "tg:FhirResource", None),
"CancerRelatedMedicationRequest": ("cancer-related medication request", "A medication request for a cancer treatment (mCODE CancerRelatedMedicationRequest).", "tg:MedicationRequest", None),
"MedicationAdministration": ("medication administration", "A medication given to a patient (FHIR MedicationAdministration).", "tg:FhirResource", None),
"CancerRelatedMedicationAdministration": ("cancer-related medication administration", "A medication administered as a cancer treatment (mCODE CancerRelatedMedicationAdministration).", "tg:MedicationAdministration", None),
"RadiopharmaceuticalTherapy": ("radiopharmaceutical therapy", "A request or administration of a therapeutic radiopharmaceutical (e.g. 177Lu-PSMA-617, 177Lu-DOTATATE, 223Ra, 131I) recorded in FHIR; an administration is one therapy cycle. Shares tg:radiopharmaceutical, tg:radionuclide and tg:administeredActivity (MBq) with the DICOM radiopharmaceutical administration.", "tg:FhirResource", None),
"Specimen": ("specimen", "A sample taken from a patient (mCODE HumanSpecimen).", "tg:FhirResource", None),
"ImagingStudyRecord": ("imaging study record", "The clinical record of an imaging study (FHIR ImagingStudy), linked to the DICOM study it describes.", "tg:FhirResource", None),
"Encounter": ("encounter", "An interaction between a patient and care providers (FHIR Encounter).", "tg:FhirResource", None),
"EpisodeOfCare": ("episode of care", "A period of care for a condition (FHIR EpisodeOfCare).", "tg:FhirResource", None),
}
# property: (kind o/d, label, definition, range, unit)
P = {
"references": ("o", "references", "Any FHIR reference of the record, resolved to the target's IRI (patients: the identifier-based patient node)."),
"fhirResourceType": ("d", "FHIR resource type", "The FHIR resourceType the record was mapped from.", "xsd:string"),
"fhirResourceKey": ("d", "FHIR resource key", "Pseudonymous token of a FHIR Patient resource's type and id, used to resolve references to it in later ingests.", "xsd:string"),
"birthYear": ("d", "birth year", "Year of the patient's birth date after the per-patient date shift; the birth date itself is not kept (HIPAA Safe Harbor keeps the year only).", "xsd:integer"),
"birthSex": ("d", "birth sex", "Sex assigned at birth (US Core birth sex extension code).", "xsd:string"),
"deceased": ("d", "deceased", "Vital status: true when the patient has died.", "xsd:boolean"),
"deathDate": ("d", "death date", "Date of death, shifted by the patient's date offset.", None),
"code": ("o", "code", "The code of the record, as the IRI of a code in its code system (SNOMED CT, LOINC, ...)."),
"status": ("d", "status", "The FHIR status code of the record (final, completed, active...).", "xsd:string"),
"clinicalStatus": ("o", "clinical status", "Clinical status of a condition (active, remission...)."),
"verificationStatus": ("o", "verification status", "Verification status of a condition."),
"category": ("o", "category", "Category code of the record."),
"bodySite": ("o", "body site", "Anatomical site, as a code IRI."),
"laterality": ("o", "laterality", "Laterality qualifier of a body site (mCODE LateralityQualifier)."),
"onsetDate": ("d", "onset date", "Date of onset (shifted).", None),
"abatementDate": ("d", "abatement date", "Date the condition resolved (shifted).", None),
"recordedDate": ("d", "recorded date", "Date the record was first made (shifted).", None),
"assertedDate": ("d", "asserted date", "Date the condition was asserted (shifted).", None),
"asserter": ("o", "asserter", "The person who asserted the record."),
"histologyMorphologyBehavior": ("o", "histology morphology behaviour", "Histology, morphology and behaviour of a cancer (mCODE HistologyMorphologyBehavior), a SNOMED CT morphology code IRI."),
"hasStage": ("o", "has stage", "Links a condition to a stage stated on it."),
"stageSummary": ("o", "stage summary", "The stage value as a code IRI."),
"stagingSystem": ("o", "staging system", "The staging system and edition used, e.g. AJCC 8th edition (FHIR Observation.method / Condition.stage.type)."),
"stageAssessment": ("o", "stage assessment", "The staging observation a condition's stage relies on."),
"effectiveDate": ("d", "effective date", "Clinically relevant time of an observation or report (shifted; xsd:date or xsd:dateTime).", None),
"issuedDate": ("d", "issued date", "When a result was issued (shifted).", None),
"focus": ("o", "focus", "What an observation is about when not the patient, e.g. the cancer condition staged."),
"specimen": ("o", "specimen", "The specimen an observation or report used."),
"derivedFrom": ("o", "derived from", "Records an observation was derived from."),
"hasMember": ("o", "has member", "Observations grouped under this one (e.g. T, N, M categories of a stage group)."),
"method": ("o", "method", "Method code of an observation or collection."),
"interpretation": ("o", "interpretation", "Interpretation code of an observation."),
"valueCode": ("o", "value code", "Coded value of an observation or component, as a code IRI."),
"valueNumber": ("d", "value number", "Numeric value of an observation or component; laboratory values are normalised to the canonical UCUM unit of their LOINC code (tg:valueUnit gives it); ratios are numerator/denominator.", "xsd:double"),
"valueUnit": ("o", "value unit", "UCUM unit (IRI under http://unitsofmeasure.org/) of tg:valueNumber."),
"ratioNumerator": ("d", "ratio numerator", "Numerator of a ratio value.", "xsd:double"),
"ratioDenominator": ("d", "ratio denominator", "Denominator of a ratio value.", "xsd:double"),
"valueInteger": ("d", "value integer", "Integer value of an observation or component.", "xsd:integer"),
"valueBoolean": ("d", "value boolean", "Boolean value of an observation or component.", "xsd:boolean"),
"valueDate": ("d", "value date", "Date value of an observation (shifted).", None),
"hasComponent": ("o", "has component", "Links an observation to one of its components."),
"evidenceType": ("o", "evidence type", "Kind of evidence behind a disease status judgement (imaging, pathology, symptoms...)."),
"longestDiameter": ("d", "longest diameter", "Longest dimension of a tumour, in millimetres.", "xsd:double", "mm"),
"geneStudied": ("o", "gene studied", "The gene of a genomic variant (HGNC IRI)."),
"cDNAChange": ("o", "cDNA change", "The DNA change of a variant in HGVS notation."),
"aminoAcidChange": ("o", "amino acid change", "The amino-acid change of a variant in HGVS notation."),
"genomicSourceClass": ("o", "genomic source class", "Germline, somatic or unknown origin of a variant."),
"dnaChangeType": ("o", "DNA change type", "Type of DNA change (SNV, deletion, ...)."),
"startDate": ("d", "start date", "Start of a procedure, encounter, episode or imaging study (shifted).", None),
"endDate": ("d", "end date", "End of a procedure, encounter, episode or therapy (shifted).", None),
"reasonCode": ("o", "reason code", "Why the action was taken, as a code IRI."),
"reasonReference": ("o", "reason reference", "The condition or observation that justified the action."),
"outcome": ("o", "outcome", "Outcome code of a procedure."),
"procedureIntent": ("o", "procedure intent", "Purpose of a treatment: curative, palliative... (mCODE ProcedureIntent)."),
"numberOfSessions": ("d", "number of sessions", "Number of radiotherapy sessions delivered.", "xsd:integer"),
"radiotherapyModality": ("o", "radiotherapy modality", "Radiotherapy modality, e.g. external beam with photons."),
"radiotherapyTechnique": ("o", "radiotherapy technique", "Radiotherapy technique, e.g. VMAT."),
"hasDoseDeliveredToVolume": ("o", "has dose delivered to volume", "Links a radiotherapy course to the dose delivered to one volume."),
"volume": ("o", "volume", "The treatment volume (body structure) a dose was delivered to."),
"totalDoseDelivered": ("d", "total dose delivered", "Total radiation dose delivered to a volume, in gray.", "xsd:double", "Gy"),
"fractionsDelivered": ("d", "fractions delivered", "Number of fractions delivered to a volume.", "xsd:integer"),
"morphology": ("o", "morphology", "Morphology of a body structure."),
"locationQualifier": ("o", "location qualifier", "Qualifier of a body structure's location."),
"active": ("d", "active", "Whether the record is in active use.", "xsd:boolean"),
"relatedCondition": ("o", "related condition", "The condition a tumour or other body structure relates to."),
"intent": ("d", "intent", "Intent of a medication request (order, plan...).", "xsd:string"),
"medication": ("o", "medication", "The medication, as a code IRI (RxNorm, ATC, SNOMED CT)."),
"authoredDate": ("d", "authored date", "When a request was authored (shifted).", None),
"statusReason": ("o", "status reason", "Why the status is what it is (e.g. why stopped)."),
"terminationReason": ("o", "termination reason", "Why a treatment was ended (mCODE TreatmentTerminationReason)."),
"route": ("o", "route", "Route of administration."),
"plannedCycles": ("d", "planned cycles", "Number of planned treatment cycles (dosageInstruction.timing.repeat.count).", "xsd:integer"),
"plannedDose": ("d", "planned dose", "Planned dose per administration, in the unit given by tg:valueUnit.", "xsd:double"),
"administrationTime": ("d", "administration time", "When a medication was administered (shifted; time of day kept).", None),
"basedOnRequest": ("o", "based on request", "The medication request an administration fulfils."),
"doseValue": ("d", "dose value", "Administered dose, in the unit given by tg:valueUnit.", "xsd:double"),
"normalizationBasis": ("o", "normalisation basis", "What a dose was normalised to (body weight, body surface area)."),
"administrationKey": ("d", "administration key", "Keyed token (HMAC) of a MedicationAdministration business identifier (system|value); the join key by which a dosimetry report finds its therapy cycle, without revealing the identifier.", "xsd:string"),
"cycleNumber": ("d", "cycle number", "Number of the therapy cycle an administration belongs to (1-based).", "xsd:integer"),
"specimenType": ("o", "specimen type", "Kind of specimen."),
"collectedDate": ("d", "collected date", "When a specimen was collected (shifted).", None),
"receivedDate": ("d", "received date", "When a specimen was received (shifted).", None),
"parentSpecimen": ("o", "parent specimen", "The specimen this one was derived from."),
"describesStudy": ("o", "describes study", "Links an ImagingStudy record to the DICOM study it describes (through the pseudonymised StudyInstanceUID)."),
"describesSeries": ("o", "describes series", "Links an ImagingStudy record to a DICOM series it lists."),
"studyModality": ("o", "study modality", "Modality of an imaging study or its series listed in a FHIR ImagingStudy, as a DICOM DCM code IRI."),
"encounter": ("o", "encounter", "The encounter a record belongs to."),
"numberOfSeries": ("d", "number of series", "Number of series in an imaging study.", "xsd:integer"),
"numberOfInstances": ("d", "number of instances", "Number of instances in an imaging study.", "xsd:integer"),
"encounterClass": ("o", "encounter class", "Class of an encounter (inpatient, ambulatory...)."),
"episodeOfCare": ("o", "episode of care", "The episode of care an encounter belongs to."),
"hasResult": ("o", "has result", "Observations reported by a diagnostic report."),
"conclusionCode": ("o", "conclusion code", "Coded conclusion of a report."),
}
IND = {}
out = ["""@prefix tg:   <https://w3id.org/theragraph/ontology#> .
@prefix owl:  <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix xsd:  <http://www.w3.org/2001/XMLSchema#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix sct:  <http://snomed.info/id/> .
@prefix loinc: <http://loinc.org/rdf/> .
@prefix ucum: <http://unitsofmeasure.org/> .

# generated by tools/generate_clinical_ontology.py — edit the table there, not this file.
# Theragraph ontology, clinical module: the mCODE STU4 core (patient, cancer conditions, staging,
# tumour markers, disease status, treatments incl. radiopharmaceutical therapy cycles, specimens,
# genomics, laboratory values, imaging-study records, encounters), mapped from FHIR R4 by
# mappings/fhir/*.yaml. Codes are IRIs of their code systems (SNOMED CT, LOINC, ATC, ...).

<https://w3id.org/theragraph/ontology/clinical>
    a owl:Ontology ;
    owl:versionIRI <https://w3id.org/theragraph/ontology/clinical/0.1.0> ;
    rdfs:label "Theragraph ontology, clinical module"@en ;
    skos:definition "Clinical oncology terms aligned to HL7 mCODE STU4 (4.0.0)."@en .
"""]
def q(s): return s.replace('"', '\\"')
for name, (label, d, sup, match) in C.items():
    lines = [f"tg:{name} a owl:Class ;", f'    rdfs:label "{q(label)}"@en ;', f'    skos:definition "{q(d)}"@en']
    if sup != "owl:Thing": lines[-1] += " ;"; lines.append(f"    rdfs:subClassOf {sup}")
    if match: lines[-1] += " ;"; lines.append(f"    skos:closeMatch {match}")
    out.append("\n".join(lines) + " .\n")
for name, spec in P.items():
    kind, label, d = spec[:3]
    rng = spec[3] if len(spec) > 3 else None
    unit = spec[4] if len(spec) > 4 else None
    t = "owl:ObjectProperty" if kind == "o" else "owl:DatatypeProperty"
    lines = [f"tg:{name} a {t} ;", f'    rdfs:label "{q(label)}"@en ;', f'    skos:definition "{q(d)}"@en']
    if rng: lines[-1] += " ;"; lines.append(f"    rdfs:range {rng}")
    if unit: lines[-1] += " ;"; lines.append(f"    tg:unit ucum:{unit}")
    out.append("\n".join(lines) + " .\n")
for name, (label, d) in IND.items():
    out.append(f'tg:{name} a owl:NamedIndividual, tg:Radionuclide ;\n    rdfs:label "{label}"@en ;\n    skos:definition "{d}"@en .\n')
open("ontology/clinical.ttl", "w").write("\n".join(out))
