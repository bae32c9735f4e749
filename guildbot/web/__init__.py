"""The web surface (FastAPI + Jinja2): the app, sign-in, the viewer dependency and the routes."""
