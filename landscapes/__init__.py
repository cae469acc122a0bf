"""Classic optimization test landscapes, written once in `jax.numpy`."""

import jax

jax.config.update("jax_enable_x64", True)
