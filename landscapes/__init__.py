"""Classic optimization test landscapes, written once against the Python array API.

The same function runs under JAX (traced, differentiated, vectorized) and under NumPy (cheap
single calls, what scipy's methods make)."""

import jax

jax.config.update("jax_enable_x64", True)
