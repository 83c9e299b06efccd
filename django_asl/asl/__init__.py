"""The Amazon States Language, in pure Python."""
