"""Optimizer plugins: scipy.optimize methods, optax transformations and Keras optimizers."""
