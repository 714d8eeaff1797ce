"""Offline answers to migration questions, with an honest "I don't know"."""
