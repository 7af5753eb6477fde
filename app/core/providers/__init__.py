"""Model providers: in-process llama.cpp, OpenAI-compatible HTTP, scripted and replay."""
