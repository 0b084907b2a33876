"""`make demo` and `make demo-train`: held-out data, recipe, showcase and its pictures."""
