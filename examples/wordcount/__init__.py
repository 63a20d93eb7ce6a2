"""The most frequent words of a pushed text file: a whole plugin in one function."""
