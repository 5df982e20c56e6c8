"""Theragraph: DICOM, mCODE/FHIR and dosimetry data mapped into one validated RDF graph."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("theragraph")
except PackageNotFoundError:  # running from a checkout without installation
    __version__ = "0.0.0+checkout"

__all__ = ["__version__"]
