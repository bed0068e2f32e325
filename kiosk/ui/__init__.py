"""The Kivy screens: a view of the core and a source of intents, nothing else.

Importing this package does not import Kivy; ``kivy_setup.configure`` must run first.
"""
