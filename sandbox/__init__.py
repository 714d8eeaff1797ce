"""An emulator of the Microsoft services the bot calls, serving a scenario file over real HTTP."""

from sandbox._scenario import Scenario, ScenarioError, load_scenario, parse_scenario
from sandbox._server import Sandbox, SandboxSnapshot

__all__ = ["Sandbox", "SandboxSnapshot", "Scenario", "ScenarioError", "load_scenario", "parse_scenario"]
