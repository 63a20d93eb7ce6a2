"""Applications of the queue other than the story server (each folder has a README)."""
