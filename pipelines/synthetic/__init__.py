"""A synthetic CRM with a known truth (an oracle), and the same CRM written as real CRMs export it.

``generate_crm`` draws leads, activities and stage history from a latent state process;
``oracle_T`` gives each open lead's true conversion probability from the latent frame.
"""

from pipelines.synthetic.crm import DEFAULT_END, generate_crm
from pipelines.synthetic.exports import (
    DIALECTS,
    EXPORT_FILES,
    to_dialect,
    to_flat,
    to_hubspot,
    to_salesforce,
)
from pipelines.synthetic.oracle import oracle_T

__all__ = [
    "DEFAULT_END",
    "DIALECTS",
    "EXPORT_FILES",
    "generate_crm",
    "oracle_T",
    "to_dialect",
    "to_flat",
    "to_hubspot",
    "to_salesforce",
]
