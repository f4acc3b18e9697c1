"""The worker's runtime: Faust as this service runs it, the pipeline the agents share, the
consumer transport, the embedded broker and the process's memory settings."""
