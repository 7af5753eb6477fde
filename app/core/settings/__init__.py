"""Configuration files and the directories Nanobot uses."""
