"""The call rewrite as a libcst codemod command, for teams that run `python -m libcst.tool`.

```
python -m libcst.tool codemod --no-format -x tokentrail_codemods.libcst_command.TrackAgentRuns src/
```

It produces the same text as `tokentrail codemod` for each file, but the runner sets the limits:
it analyses the project once per file (the on-disk index cache keeps that affordable), prints no
summary of skipped calls or classes left on the ambient context (they come out as warnings), has
no `--check` or `--update-names`, and writes through libcst rather than atomically. Keep
`--no-format`: the runner's default formatter is black, which rewrites whole files.
"""

from __future__ import annotations

from pathlib import Path

import libcst as cst
from libcst.codemod import CodemodCommand, SkipFile

from tokentrail_codemods._apply import rewrite_settings
from tokentrail_codemods._transform import RewriteError, needs_rewrite, rewrite_file
from tokentrail_lint.analysis import analyze


class TrackAgentRuns(CodemodCommand):
    """Rewrite untracked pydantic-ai agent runs into tokentrail's tracked wrappers."""

    DESCRIPTION: str = "Rewrite untracked pydantic-ai agent runs into tokentrail's wrappers."

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        """Analyse the file being transformed and return its rewritten module."""
        if self.context.filename is None:
            raise SkipFile("the tokentrail rewrite needs the file's path to analyse its project")
        path = Path(self.context.filename).absolute()
        project = analyze([path])
        analysis = next((file for file in project.files if file.path == path), None)
        if analysis is None or analysis.error is not None:
            raise SkipFile(analysis.error if analysis else "not selected by [tool.tokentrail]")
        if not needs_rewrite(analysis.runs, update_names=False):
            raise SkipFile("no untracked agent runs")

        settings = rewrite_settings(project, update_names=False)
        try:
            rewrite = rewrite_file(
                path, tree.code, tree.default_newline, analysis.runs, analysis.classes, settings
            )
        except RewriteError as error:
            raise SkipFile(str(error)) from error
        for skipped in rewrite.skipped:
            detail = f" ({skipped.detail})" if skipped.detail else ""
            self.warn(f"line {skipped.line}: {skipped.reason.value}{detail}")
        for entry in rewrite.ambient:
            self.warn(f"{entry.name} uses the ambient context: {entry.reason}")
        if rewrite.text is None:
            raise SkipFile("nothing to rewrite")
        return cst.parse_module(rewrite.text)
