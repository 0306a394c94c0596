"""Input and output models of this node's handler (yours to edit)."""
