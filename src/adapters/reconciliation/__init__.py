"""The providers' own accounting: their usage and cost reporting APIs (an admin credential),
the Cloud Billing CSV export and invoice CSV files, read into domain.reconciliation rows."""
