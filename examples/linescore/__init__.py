"""Score every line of a text file with a tiny character model trained on the file itself."""
