"""A unix socket whose listen backlog is full, so connect(2) blocks.

Usage: unix_backlog_full.py PATH. Prints "ready" once the backlog is full,
then holds everything open until stdin reaches EOF.
"""
import socket
import sys

path = sys.argv[1]
listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
listener.bind(path)
listener.listen(0)
held = []
while True:
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.setblocking(False)
    try:
        client.connect(path)
    except BlockingIOError:  # EAGAIN: the backlog is full
        client.close()
        break
    held.append(client)
print("ready", flush=True)
sys.stdin.read()
