"""A command group that imports a command's module only when that command runs.

The top-level group knows each command by name, by where it lives
(``"nocturna.cli.run_cmd:run"``) and by its one-line help, so ``nocturna --help``
and ``nocturna --version`` import no command module (and none of what they pull in:
astropy, numpy, sqlalchemy). A command's module is imported when the command is
resolved, which includes its own ``--help``.

Every command, loaded or not, gets the same help conventions here: option
placeholders in capitals (``INTEGER``, ``FLOAT``, ``TEXT``, ``PATH``) instead of
typer's ``<int>``, no placeholder for flags, and help texts shown literally (a
``[default: …]`` in a help text is not taken for Rich markup); an unknown
subcommand is answered with the list of valid ones.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, ClassVar

import typer
from typer.core import TyperCommand, TyperGroup, TyperOption

_PLACEHOLDERS = {"int": "INTEGER", "float": "FLOAT", "str": "TEXT", "Path": "PATH"}


@dataclass(frozen=True)
class CommandSpec:
    """Where a command lives (``"module:attribute"``: a function or a Typer app) and
    its one-line help for the command list."""

    target: str
    help: str


def _escape_markup(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _placeholder(option: TyperOption) -> str:
    """What an option's value is called in help: nothing for flags and counts."""
    if option.is_flag or option.count:
        return ""
    descriptor = option.type_descriptor
    if descriptor.is_choice:
        return "[" + "|".join(str(choice) for choice in descriptor.choices or ()) + "]"
    name = option.bare_type()
    return _PLACEHOLDERS.get(name, name.upper())


def tidy_help(command: TyperCommand | TyperGroup, ctx: Any) -> None:
    """Apply the help conventions to ``command`` and everything under it (once)."""
    if getattr(command, "_help_tidied", False):
        return
    command._help_tidied = True  # type: ignore[attr-defined]
    for param in command.params:
        if isinstance(param, TyperOption) and param.metavar is None:
            param.metavar = _placeholder(param)
        if getattr(param, "help", None):
            param.help = _escape_markup(param.help)  # type: ignore[attr-defined]
    help_option = command.get_help_option(ctx)
    if help_option is not None:
        help_option.metavar = ""
    if command.help:
        command.help = _escape_markup(command.help)
    if command.short_help:
        command.short_help = _escape_markup(command.short_help)
    if isinstance(command, TyperGroup):
        for sub in command.commands.values():
            tidy_help(sub, ctx)


class ListingGroup(TyperGroup):
    """A group whose unknown-command error lists the valid commands (no guessing)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["suggest_commands"] = False
        super().__init__(*args, **kwargs)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        try:
            return super().resolve_command(ctx, args)
        except typer.TyperException as exc:  # click's UsageError
            if args and self.get_command(ctx, args[0]) is None:
                exc.message = (f"no command {args[0]!r} in '{ctx.command_path}'; "
                               f"choose one of: {', '.join(self.list_commands(ctx))}")
            raise


class LazyGroup(ListingGroup):
    """The top-level group: commands are imported on first use (see the module doc)."""

    lazy: ClassVar[dict[str, CommandSpec]] = {}
    """The commands to import on first use; a subclass names them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._listing = False

    def get_params(self, ctx: Any) -> list[Any]:
        tidy_help(self, ctx)
        return super().get_params(ctx)

    def list_commands(self, ctx: Any) -> list[str]:
        return [*self.lazy, *(name for name in self.commands if name not in self.lazy)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        spec = self.lazy.get(cmd_name)
        if spec is None:
            return None
        if self._listing:  # the command list needs only the name and the help
            return TyperCommand(cmd_name, short_help=_escape_markup(spec.help))
        command = self._load(cmd_name, spec)
        tidy_help(command, ctx)
        self.commands[cmd_name] = command
        return command

    def _load(self, name: str, spec: CommandSpec) -> TyperCommand | TyperGroup:
        from typer.main import get_command_from_info, get_group_from_info
        from typer.models import CommandInfo, TyperInfo

        module_name, _, attribute = spec.target.partition(":")
        target = getattr(importlib.import_module(module_name), attribute)
        settings = {"pretty_exceptions_short": True, "rich_markup_mode": self.rich_markup_mode}
        if isinstance(target, typer.Typer):
            command: TyperCommand | TyperGroup = get_group_from_info(
                TyperInfo(target, name=name, cls=ListingGroup), suggest_commands=False,
                **settings)
        else:
            command = get_command_from_info(CommandInfo(name, callback=target), **settings)
        command.short_help = spec.help
        return command

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False
