"""The inference gateway: keys, quotas, guards, tool-call policy, audit and monitors.

Import the pieces from their modules (`garrison.gateway.app`, `.keys`, ...): the web stack is
an optional extra (`pip install 'garrison-ml[gateway]'`), so nothing heavy loads here.
"""
