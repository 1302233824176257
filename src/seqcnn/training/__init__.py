"""The training stage: the loop, the recipes, losses and optimisers, the device, several processes
(``torchrun``), masked-nucleotide pretraining and starting from another run's weights."""
