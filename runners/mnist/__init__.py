"""The MNIST runner: data loading, the seed's model, the JAX and Keras trainers and callbacks."""
