"""Getting through AWS's faults: what a fault was, when to send again, and what a create made.

faults.py tells throttling, server errors and lost connections apart and paces the retries;
registry.py says, per (service, operation), what an answer after a re-send means and how to
find what an earlier, unanswered attempt made; lookups.py does those look-ups.
"""
