"""Bringing a CRM's own exports in: a mapping onto the data contract, value parsing, the import."""

from pipelines.ingest.duplicates import SUPERSEDED, resolve_duplicate_leads
from pipelines.ingest.importer import (
    EXPORT_SUFFIXES,
    ExportFileError,
    ImportReport,
    import_exports,
    read_export,
    validate_mapped,
)
from pipelines.ingest.loading import (
    ImportRefused,
    ImportSettings,
    LoadOptions,
    LoadPlan,
    TableChange,
    options_for,
    plan_load,
)
from pipelines.ingest.mappings import MappedExport, apply_mapping, map_export
from pipelines.ingest.spec import SHIPPED_MAPPINGS, Mapping, MappingError, load_mapping
from pipelines.ingest.values import as_text, normalize_key, to_numbers, to_utc_times

__all__ = [
    "EXPORT_SUFFIXES",
    "ExportFileError",
    "ImportRefused",
    "ImportReport",
    "ImportSettings",
    "LoadOptions",
    "LoadPlan",
    "MappedExport",
    "Mapping",
    "MappingError",
    "SHIPPED_MAPPINGS",
    "SUPERSEDED",
    "TableChange",
    "apply_mapping",
    "as_text",
    "import_exports",
    "load_mapping",
    "map_export",
    "normalize_key",
    "options_for",
    "plan_load",
    "read_export",
    "resolve_duplicate_leads",
    "to_numbers",
    "to_utc_times",
    "validate_mapped",
]
