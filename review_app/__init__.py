"""The web app where AP clerks resolve exceptions."""
