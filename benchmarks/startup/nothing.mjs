// An empty preload: what `--import` itself costs, to tell Node's share from the agent's.
