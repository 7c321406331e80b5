"""The owner's dashboard: server-rendered pages under /ui/ to see and steer Hearth in a browser."""
