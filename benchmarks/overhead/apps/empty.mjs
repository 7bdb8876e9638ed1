// The start-up baseline: a script that does nothing.
