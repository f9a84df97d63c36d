"""The ASGI entry point uvicorn imports: the app over the store named by the settings."""

from review_app.main import create_app

app = create_app()
