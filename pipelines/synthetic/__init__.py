"""A synthetic CRM for demos and tests, and the same CRM written as real CRMs export it."""

from pipelines.synthetic.crm import DEFAULT_END, generate_crm
from pipelines.synthetic.exports import (
    DIALECTS,
    EXPORT_FILES,
    to_dialect,
    to_flat,
    to_hubspot,
    to_salesforce,
)

__all__ = [
    "DEFAULT_END",
    "DIALECTS",
    "EXPORT_FILES",
    "generate_crm",
    "to_dialect",
    "to_flat",
    "to_hubspot",
    "to_salesforce",
]
