"""MCP servers as tool sources: ``[mcp_servers.NAME]`` in the config, tools as ``NAME__tool``.

The official ``mcp`` SDK (the optional extra ``nanobot[mcp]``) is imported only when a server
starts, so the core loads without it. See :mod:`app.core.mcp.manager` for the lifecycle and
:mod:`app.core.mcp.tools` for how calls are validated, asked about and rendered.
"""
