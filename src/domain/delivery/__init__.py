"""Invoices delivered by email (an outbox with retries, as for webhooks) and dunning: overdue
invoices reminded, alerted and, when the agency asks for it, their client suspended."""
