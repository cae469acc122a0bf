"""The search runner: grid, random and halving search with k-fold CV over another runner."""
