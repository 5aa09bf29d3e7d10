"""The operator console: server-rendered pages under ``/ui/`` over the same service functions as the API.

No build step and nothing fetched from another host: Jinja2 templates, one stylesheet and one small
script of our own (``static/``), charts drawn as SVG on the server (:mod:`charts`).
"""
