"""The web dashboard over the store (`garrison dashboard`): read-only, server-rendered pages.

Import `garrison.web.app` only where Starlette is wanted; this package stays cheap to import.
"""
