"""HTTP routes of the review app, one module per resource."""
