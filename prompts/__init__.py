"""The default prompt templates (*.txt), installed as the package data textrisk.prompt.prompts."""
