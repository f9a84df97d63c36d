"""A private Tryton for the demo and the tests: installed once, seeded with the sandbox master data."""
