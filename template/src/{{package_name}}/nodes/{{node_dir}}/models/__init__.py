# Yours to edit: the ONEX node template generated this file once.
"""Input and output models of this node's handler (yours to edit)."""
