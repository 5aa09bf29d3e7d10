"""``/docs`` (Swagger UI) and ``/redoc`` served from assets inside the package: no CDN, so the pages work on a
server without outbound web access.

The assets are swagger-ui-dist 5.35.0 (``swagger-ui-bundle.js``, ``swagger-ui.css``, ``favicon-32x32.png``;
Apache-2.0, ``swagger-ui-LICENSE.txt`` and ``swagger-ui-NOTICE.txt``) and redoc 2.5.4
(``redoc.standalone.js``; MIT, ``redoc-LICENSE.txt``), unchanged from their npm packages, with the licence
notices of what they bundle (``*.LICENSE.txt``). The HTML is FastAPI's own (``fastapi.openapi.docs``) pointed at
them, ReDoc without Google Fonts. One request still leaves the page: ReDoc's footer loads the Redocly logo from its
CDN (hard-coded in the bundle); offline it fails and the image hides itself (tests/e2e/test_api_docs.py).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import FileResponse, HTMLResponse

from email_engine.errors import NotFound

__all__ = ["ASSETS_DIR", "install_api_docs"]

ASSETS_DIR = Path(__file__).parent / "docs_assets"
ASSETS_PATH = "/docs/assets"
#: What /docs/assets serves, and as what; nothing else in the folder is reachable.
MEDIA_TYPES = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
    "redoc.standalone.js": "text/javascript; charset=utf-8",
}


def install_api_docs(app: FastAPI) -> None:
    """Add /docs, /docs/oauth2-redirect, /redoc and /docs/assets/NAME (the app is made with docs_url=None)."""
    openapi_url = app.openapi_url or "/openapi.json"
    title = f"{app.title} {app.version}"

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{title} — API",
            swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_PATH}/favicon-32x32.png",
            oauth2_redirect_url="/docs/oauth2-redirect",
        )

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{title} — API",
            redoc_js_url=f"{ASSETS_PATH}/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS_PATH}/favicon-32x32.png",
            with_google_fonts=False,
        )

    @app.get(ASSETS_PATH + "/{name}", include_in_schema=False)
    def asset(name: str) -> FileResponse:
        media_type = MEDIA_TYPES.get(name)
        if media_type is None:
            raise NotFound(f"There is no documentation asset named {name!r}.")
        return FileResponse(
            ASSETS_DIR / name, media_type=media_type, headers={"Cache-Control": "public, max-age=86400"}
        )
