"""The cluster's nginx.conf: a non-daemon nginx (under `keep`) whose logs, pid and temp files are
all under CLUSTER_DIR, no root paths.

Sticky by a cookie of nginx's own, `kindred_node`. Every client on this machine has the address
127.0.0.1, so ip_hash would send them all to one web process; Flask's `session` cookie changes
its value whenever the session is re-signed, so hashing on it would move a client between
processes mid-session (a Socket.IO session lives in one process). Instead a request without
`kindred_node` is hashed on its random $request_id and answered with `kindred_node=<that id>`;
the client's later requests (its REST calls, its Socket.IO polling and websocket) carry the
cookie, so they hash to the same process. `consistent` hashing: when a process is down nginx
tries the next one (proxy_next_upstream), and a stopped process moves only its own clients."""
from cluster.settings import ClusterSettings

TEMPLATE = """\
# Written by `python -m cluster up` (cluster/nginx.py); edits are overwritten at the next start.
worker_processes 1;
worker_rlimit_nofile 16384;
pid {dir}/nginx/nginx.pid;
error_log {dir}/nginx-error.log warn;

events {{
    worker_connections 8192;
}}

http {{
    access_log {dir}/nginx-access.log;
    client_body_temp_path {dir}/nginx/tmp/body;
    proxy_temp_path {dir}/nginx/tmp/proxy;
    fastcgi_temp_path {dir}/nginx/tmp/fastcgi;
    uwsgi_temp_path {dir}/nginx/tmp/uwsgi;
    scgi_temp_path {dir}/nginx/tmp/scgi;
    client_max_body_size 20m;

    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ''      close;
    }}
    map $cookie_kindred_node $kindred_node {{
        ''      $request_id;
        default $cookie_kindred_node;
    }}
    map $cookie_kindred_node $kindred_node_cookie {{
        ''      "kindred_node=$request_id; Path=/; HttpOnly; SameSite=Lax";
        default "";
    }}

    upstream kindred {{
        hash $kindred_node consistent;
{servers}
    }}

    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://kindred;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host $http_host;
            # a websocket stays open for as long as the tab does; tokens stream unbuffered
            proxy_read_timeout 3600s;
            proxy_send_timeout 3600s;
            proxy_buffering off;
            proxy_connect_timeout 5s;
            # a process that is down (killed, restarting): the next one answers instead
            proxy_next_upstream error timeout http_502;
            add_header Set-Cookie $kindred_node_cookie always;
        }}
    }}
}}
"""


def nginx_conf(settings: ClusterSettings) -> str:
    servers = "\n".join(f"        server 127.0.0.1:{settings.web_port(n)} max_fails=1 "
                        f"fail_timeout=3s;" for n in range(1, settings.webs + 1))
    return TEMPLATE.format(dir=settings.dir, port=settings.port, servers=servers)
