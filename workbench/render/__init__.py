"""Client and gateway configs for every step, rendered from jinja2 templates.

- :mod:`.context`: the plain contexts (paths, identities, URLs; never a key value).
- :mod:`.formats`: the formats and the files each writes.
- :mod:`.engine`: :func:`render_step`, writing everything atomically.

Only the Kubernetes Secret carries private key material (0600); keystore passwords come from
the environment at run time; old static key values are never read.
"""

from workbench.render.context import ClientContext, GatewayContext, client_contexts, gateway_context
from workbench.render.engine import RenderedFile, RenderResult, render_step
from workbench.render.formats import FORMATS, Format, Output, parse_formats

__all__ = [
    "FORMATS",
    "ClientContext",
    "Format",
    "GatewayContext",
    "Output",
    "RenderResult",
    "RenderedFile",
    "client_contexts",
    "gateway_context",
    "parse_formats",
    "render_step",
]
