"""The team's inbox: mentions that wait for a reply (queue.py), what the team does with them (actions.py),
and the crisis-room page that shows both (web.py)."""
