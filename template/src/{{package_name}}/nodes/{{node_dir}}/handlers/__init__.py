"""Business logic of this node (yours to edit)."""
