"""pytest plugin for adcheck (entry point ``pytest11``): fixtures and options."""
