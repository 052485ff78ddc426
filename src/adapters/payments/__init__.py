"""Payment processors: Stripe through its official library (stripe_processor.py), and the
reading of its webhook events into the domain's terms (stripe_events.py)."""
