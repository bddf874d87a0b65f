"""`tokentrail report`: who spent what, summed by the store's own SQL engine.

The report reads the `token_usage` table of any store tokentrail writes to, groups it by any of
organization, user, tool, operation, model, provider and day, and prints a terminal table, CSV
or JSON. Nothing here is imported by `import tokentrail`.
"""
