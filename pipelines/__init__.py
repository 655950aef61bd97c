"""Feature pipelines: data contracts, storage, point-in-time features, synthetic CRM data."""
