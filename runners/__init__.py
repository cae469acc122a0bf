"""Runner plugins: the engines that run an optimizer on a kind of problem."""
