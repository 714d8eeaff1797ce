"""An emulator of the Microsoft services the bot calls, serving a scenario file over real HTTP."""
