"""The service layer: one function per user action, typed in and out; rights checked here.

The command line, the API and the console call these functions and only format their answers. Each
function starts with ``ctx.authorize("<area>.<verb>")`` (the one rights table,
:mod:`jnx.services.rights`), which answers the row scope the function applies to its queries.
"""
