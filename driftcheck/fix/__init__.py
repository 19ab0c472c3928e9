"""`driftcheck fix`: plan (`plan`), the layout-keeping editor (`layout`), one rewriter per language.

The command that writes the plan lives in `driftcheck.cli.fix`.
"""
