"""The ground floor: atomic writes, lazy exports, threads, config validation, softmax / sigmoid / temperature.

Imports nothing of textrisk but :mod:`textrisk.errors`."""
