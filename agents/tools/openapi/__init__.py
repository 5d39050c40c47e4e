"""Custom tools from an OpenAPI 3.0/3.1 document: one :class:`OpenApiTool` per operation.

A tool's ``parameters`` is one flat JSON-Schema object: every path, query and header
parameter is a property under its own name, and the JSON request body (whatever its
schema: object, array or scalar) is the property ``body``. A parameter whose name is
already taken (a second location, or a parameter literally called ``body``) becomes
``<name>_<location>``. Flat names are what small models fill in best; keeping the body
whole avoids clashes between body fields and parameters.

Local ``$ref``s are inlined (a recursive reference becomes an unconstrained schema);
what cannot be imported (non-JSON bodies, cookie parameters, callbacks, webhooks,
unsupported security schemes, operations without a server URL) is named in the
:class:`ImportReport` and the rest is imported. The HTTP client comes in as a
:class:`HttpClientProtocol` (the SSRF guard's ``fetch``); the secret is given to the
tool at construction and never stored on a model.
"""

from agents.tools.openapi.auth import ToolAuth
from agents.tools.openapi.document import MAX_NODES, OpenApiError, load_openapi
from agents.tools.openapi.importer import METHODS, read_operations, sanitise_name
from agents.tools.openapi.operation import OpenApiOperation
from agents.tools.openapi.report import ImportedTool, ImportItem, ImportReport
from agents.tools.openapi.schema import MAX_SCHEMA_NODES
from agents.tools.openapi.tool import OpenApiTool, build_tools

__all__ = [
    "MAX_NODES",
    "MAX_SCHEMA_NODES",
    "METHODS",
    "ImportItem",
    "ImportReport",
    "ImportedTool",
    "OpenApiError",
    "OpenApiOperation",
    "OpenApiTool",
    "ToolAuth",
    "build_tools",
    "load_openapi",
    "read_operations",
    "sanitise_name",
]
