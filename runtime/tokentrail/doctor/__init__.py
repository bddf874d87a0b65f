"""`tokentrail doctor`: is this environment set up to record usage, and what to fix if not.

Each check looks at one thing (the store, the outbox, the identity provider, the configuration
file, the installed libraries) without changing anything, and says what to do when it is wrong.
Nothing here is imported by `import tokentrail`.
"""
