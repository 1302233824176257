"""The searches that chose the defaults: recipes, models, the panel, hybrids, pretraining."""
