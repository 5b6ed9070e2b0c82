"""The yardstick of the throughput benchmark: a bare Flask app whose one endpoint returns a small
HTML string (served by gunicorn with the same workers as the app)."""
from flask import Flask

app = Flask(__name__)


@app.get("/healthz")
@app.get("/")
def hello() -> str:
    return "<!doctype html><html lang=nb><title>Hei</title><p>Hei</p></html>"
