# Yours to edit: the ONEX node template generated this file once.
"""Business logic of this node (yours to edit)."""
