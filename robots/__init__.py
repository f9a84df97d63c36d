"""Robocorp task entry points and page objects for target systems."""
