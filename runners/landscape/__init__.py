"""The landscape runner: multi-start runs on test functions (optax vectorized, scipy, Keras)."""
