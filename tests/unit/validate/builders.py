"""A seeded random data graph with deliberate violations, and shapes using all of SHACL Core."""

from __future__ import annotations

import random

SHAPES_TTL = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix ex: <http://example.org/> .

ex:Person a rdfs:Class .
ex:Patient a rdfs:Class ; rdfs:subClassOf ex:Person .

ex:PatientShape a sh:NodeShape ;
  sh:targetClass ex:Person ;
  sh:closed true ; sh:ignoredProperties ( <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> ) ;
  sh:property [ sh:path ex:pseudonym ; sh:minCount 1 ; sh:maxCount 1 ; sh:datatype xsd:string ;
                sh:minLength 8 ; sh:maxLength 12 ; sh:pattern "^P[0-9a-f]+$" ; sh:flags "i" ] ;
  sh:property [ sh:path ex:weight ; sh:datatype xsd:decimal ; sh:minInclusive 2 ;
                sh:maxInclusive 400 ; sh:severity sh:Warning ;
                sh:message "weight must be 2-400 kg"@en ] ;
  sh:property [ sh:path ex:height ; sh:minExclusive 0 ; sh:maxExclusive 250 ] ;
  sh:property [ sh:path ex:sex ; sh:in ( "F" "M" "O" ) ; sh:maxCount 1 ] ;
  sh:property [ sh:path ex:label ; sh:languageIn ( "en" "de" ) ; sh:uniqueLang true ;
                sh:severity sh:Info ] ;
  sh:property [ sh:path ex:hasSeries ; sh:class ex:Series ; sh:nodeKind sh:IRI ;
                sh:node ex:SeriesShape ] ;
  sh:property [ sh:path ( ex:hasSeries ex:hasDose ) ; sh:qualifiedValueShape ex:HighDose ;
                sh:qualifiedMaxCount 2 ] ;
  sh:property [ sh:path ex:birthYear ; sh:lessThan ex:deathYear ;
                sh:lessThanOrEquals ex:diagnosisYear ] ;
  sh:property [ sh:path ex:alias ; sh:disjoint ex:pseudonym ; sh:equals ex:alias2 ] ;
  sh:property [ sh:path ex:alias2 ] ;
  sh:property [ sh:path ex:deathYear ] ; sh:property [ sh:path ex:diagnosisYear ] ;
  sh:property [ sh:path [ sh:alternativePath ( ex:site ex:centre ) ] ; sh:maxCount 1 ;
                sh:nodeKind sh:Literal ] ;
  sh:property [ sh:path ex:site ] ; sh:property [ sh:path ex:centre ] ;
  sh:property [ sh:path ex:knows ; sh:not [ sh:class ex:Series ] ] ;
  sh:property [ sh:path [ sh:zeroOrMorePath ex:knows ] ; sh:nodeKind sh:BlankNodeOrIRI ] ;
  sh:property [ sh:path [ sh:oneOrMorePath ex:knows ] ; sh:maxCount 4 ] .

ex:SeriesShape a sh:NodeShape ;
  sh:property [ sh:path ex:modality ; sh:hasValue "PT" ; sh:or ( [ sh:datatype xsd:string ]
                [ sh:nodeKind sh:IRI ] ) ] ;
  sh:property [ sh:path [ sh:inversePath ex:hasSeries ] ; sh:minCount 1 ; sh:maxCount 1 ] .

ex:Series a rdfs:Class, sh:NodeShape ;
  sh:property [ sh:path ex:hasDose ; sh:xone ( ex:GyDose ex:MBqDose ) ;
                sh:qualifiedValueShape ex:HighDose ; sh:qualifiedMinCount 1 ;
                sh:qualifiedValueShapesDisjoint true ] ;
  sh:property [ sh:path ex:hasDose ; sh:qualifiedValueShape ex:LowDose ;
                sh:qualifiedMaxCount 3 ; sh:qualifiedValueShapesDisjoint true ] ;
  sh:property [ sh:path [ sh:zeroOrOnePath ex:previous ] ; sh:maxCount 2 ] .

ex:GyDose sh:property [ sh:path ex:unit ; sh:hasValue "Gy" ] .
ex:MBqDose sh:property [ sh:path ex:unit ; sh:hasValue "MBq" ] .
ex:HighDose sh:property [ sh:path ex:value ; sh:minInclusive 10 ] .
ex:LowDose sh:and ( [ sh:property [ sh:path ex:value ; sh:maxExclusive 10 ] ]
                    [ sh:property [ sh:path ex:value ; sh:minCount 1 ] ] ) .

ex:DoseShape a sh:NodeShape ;
  sh:targetObjectsOf ex:hasDose ;
  sh:property [ sh:path ex:value ; sh:minCount 1 ; sh:datatype xsd:decimal ] ;
  sh:sparql [ sh:message "dose {?value} is negative" ;
              sh:select \"\"\"SELECT $this ?value WHERE { $this <http://example.org/value> ?value .
                         FILTER(?value < 0) }\"\"\" ] .

ex:UnitShape a sh:NodeShape ; sh:targetSubjectsOf ex:unit ;
  sh:property [ sh:path ex:unit ; sh:in ( "Gy" "MBq" "GBq" ) ] .

ex:PetSeriesShape a sh:NodeShape ; sh:targetSubjectsOf ex:modality ;
  sh:property [ sh:path ex:modality ; sh:hasValue "PT" ] .

ex:FixedShape a sh:NodeShape ; sh:targetNode ex:p0, "lit" ;
  sh:nodeKind sh:IRI ; sh:minLength 3 .

ex:OffShape a sh:NodeShape ; sh:targetClass ex:Person ; sh:deactivated true ;
  sh:property [ sh:path ex:pseudonym ; sh:maxCount 0 ] .
"""


def random_data(seed: int = 7, patients: int = 40) -> str:
    """Return Turtle for ``patients`` patients with series and doses, some of them faulty."""
    rnd = random.Random(seed)
    lines = [
        "@prefix ex: <http://example.org/> .",
        "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .",
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .",
        # SHACL reads rdfs:subClassOf from the data graph, so the hierarchy goes here too
        "ex:Patient rdfs:subClassOf ex:Person .",
    ]

    def maybe(p: float) -> bool:
        return rnd.random() < p

    for i in range(patients):
        p = f"ex:p{i}"
        cls = "ex:Patient" if maybe(0.8) else "ex:Person"
        lines.append(f"{p} a {cls} .")
        if not maybe(0.1):
            pseudo = rnd.choice([f"P{i:08x}", f"p{i:07x}", "Pxyz", f"P{i:020x}", "Q1234567"])
            lines.append(f'{p} ex:pseudonym "{pseudo}" .')
        if maybe(0.1):
            lines.append(f'{p} ex:pseudonym "P{i:08x}b" .')
        weight = rnd.choice(["70.5", "1.0", "450.0", '"heavy"', '"80"^^xsd:integer', "80.0"])
        lines.append(f"{p} ex:weight {weight} .")
        if maybe(0.5):
            lines.append(f"{p} ex:height {rnd.choice(['170', '0', '300', '-1', '180.5'])} .")
        if maybe(0.7):
            lines.append(f'{p} ex:sex "{rnd.choice(["F", "M", "O", "X"])}" .')
        for lang in rnd.sample(["en", "de", "fr", "EN"], rnd.randint(0, 3)):
            lines.append(f'{p} ex:label "name {rnd.randint(0, 3)}"@{lang} .')
        by = rnd.randint(1930, 2000)
        lines.append(f"{p} ex:birthYear {by} .")
        if maybe(0.4):
            lines.append(f"{p} ex:deathYear {by + rnd.randint(-5, 80)} .")
        if maybe(0.5):
            diagnosis = rnd.choice([str(by), str(by - 1), str(by + 50), '"foo"'])
            lines.append(f"{p} ex:diagnosisYear {diagnosis} .")
        if maybe(0.3):
            alias = rnd.choice(["A1", "A2", f"P{i:08x}"])
            lines.append(f'{p} ex:alias "{alias}" .')
            if maybe(0.6):
                lines.append(f'{p} ex:alias2 "{alias if maybe(0.7) else "other"}" .')
        if maybe(0.3):
            lines.append(f'{p} ex:site "{rnd.choice(["A", "B"])}" .')
        if maybe(0.2):
            centre = rnd.choice(["ex:c1", '"C"'])
            lines.append(f"{p} ex:centre {centre} .")
        for _ in range(rnd.randint(0, 2)):
            other = rnd.choice([f"ex:p{rnd.randrange(patients)}", f"ex:s{i}_0", '"lit"'])
            lines.append(f"{p} ex:knows {other} .")
        if maybe(0.05):
            lines.append(f'{p} ex:nickname "x" .')
        for j in range(rnd.randint(0, 3)):
            s = f"ex:s{i}_{j}"
            lines.append(f"{p} ex:hasSeries {s} .")
            if maybe(0.85):
                lines.append(f"{s} a ex:Series .")
            if maybe(0.05):
                lines.append(f"ex:p{rnd.randrange(patients)} ex:hasSeries {s} .")
            modality = rnd.choice(['"PT"', '"CT"', "ex:PT"])
            lines.append(f"{s} ex:modality {modality} .")
            if maybe(0.3):
                lines.append(f"{s} ex:previous ex:s{i}_{max(j - 1, 0)} .")
            for k in range(rnd.randint(0, 4)):
                d = f"_:d{i}_{j}_{k}" if maybe(0.3) else f"ex:d{i}_{j}_{k}"
                lines.append(f"{s} ex:hasDose {d} .")
                unit = rnd.choice(['"Gy"', '"MBq"', '"mCi"'])
                lines.append(f"{d} ex:unit {unit} .")
                if maybe(0.9):
                    value = rnd.choice(["5.0", "12.5", "-1.0", "10.0", '"x"', "7400.0"])
                    lines.append(f"{d} ex:value {value} .")
    if maybe(1.0):
        lines.append('ex:lonely ex:unit "Gy" .')
    return "\n".join(lines) + "\n"
