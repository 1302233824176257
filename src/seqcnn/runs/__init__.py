"""The run folder (``runs/<name>/``): every file of a run read and written in one place, the
predictions table, and the resumable training state."""
