"""The platform-neutral conversation: commands parsed once, replies described once, rendered per surface."""
