"""A synthetic CRM with a known truth (an oracle), and the same CRM written as real CRMs export it.

``generate_crm`` draws leads, activities and stage history from a latent state process;
``oracle_T`` gives each open lead's true conversion probability from the latent frame;
``oracle_report`` measures the oracle (and a model against it) at one snapshot time.
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
from pipelines.synthetic.opportunities import to_opportunities
from pipelines.synthetic.oracle import oracle_T
from pipelines.synthetic.scorecard import oracle_report

__all__ = [
    "DEFAULT_END",
    "DIALECTS",
    "EXPORT_FILES",
    "generate_crm",
    "oracle_T",
    "oracle_report",
    "to_dialect",
    "to_flat",
    "to_hubspot",
    "to_opportunities",
    "to_salesforce",
]
