"""Gunicorn settings for Heroku, or any host that says where to listen in $PORT.

Run with: gunicorn --config gunicorn.conf.py 'webapp:create_app()'
"""

import os

# Every address, IPv4 and IPv6, on the port the platform gives.
bind = ["[::]:" + os.environ.get("PORT", "8000")]

# Heroku sets WEB_CONCURRENCY from the dyno's memory.
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))

# Every story page holds an event stream open, which holds a thread; the app
# refuses streams beyond WEBAPP_MAX_STREAMS (80) per process, so that at least
# 20 threads are always left for pages, forms and polls. A waiting thread costs
# little memory and no CPU: streams are answered from one shared read of the story.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "100"))

# Heroku's router gives up on a request after 30 s and kills a dyno 30 s after
# SIGTERM: a stuck request is ended first, and in-flight ones finish in time.
timeout = 20
graceful_timeout = 20
keepalive = 5

# Heroku's router already logs every request; the app logs its own events.
accesslog = None
errorlog = "-"

# No local control socket: nothing on a dyno uses it, and two servers on one
# machine (tests, a demo) would fight over its default path.
control_socket_disable = True
