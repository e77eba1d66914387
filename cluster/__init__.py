"""`make cluster`: a whole local deployment from one command (docs/deploy.md, "make cluster").

    python -m cluster up      # prepare instance/cluster/, then run the Procfile under honcho
    python -m cluster stop    # end every process it started (`make cluster-stop`)
    python -m cluster wait    # until http://127.0.0.1:8000 answers through nginx and every web
    python -m cluster keep NAME -- CMD...   # one Procfile entry: run CMD, pid in NAME.pid,
                                            # start it again whenever it exits

What runs (honcho, one Procfile written into CLUSTER_DIR): nginx from Debian's packages as the
sticky load balancer on CLUSTER_PORT, CLUSTER_WEBS web processes (`python run.py`, gunicorn) on
the ports after it, CLUSTER_WORKERS inference workers when CLUSTER_INFERENCE=redis, and, with
CLUSTER_REDIS_PORT, a redis-server of the cluster's own (the tests restart it). PostgreSQL is the
machine's: the database in CLUSTER_DATABASE_URL is created, migrated and seeded by `up`.

Every entry runs under `keep`, which writes the pid of the process it started (gunicorn's
master, the worker, nginx, redis-server) into CLUSTER_DIR/NAME.pid and starts it again after it
exits (a crash, `kill -9`): honcho itself would stop the whole cluster when one process ends.
This package is tooling, not a domain: it imports nothing of the app."""
