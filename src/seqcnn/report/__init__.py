"""Plots and the run's HTML page; reads run folders and arrays, never trains."""
