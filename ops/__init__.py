"""Day-to-day operation of an airgap stack (python -m ops)."""

import os

# The ops commands start `pulumi` (fork + exec) while the Automation API's gRPC event server runs in this process.
# grpcio 1.81+ may abort the child before exec, "epoll_wait ... Bad file descriptor" (grpc/grpc#43055, open); without
# fork support the child restarts no poller (the workaround in grpc/grpc#13873). Read once, when grpc initialises.
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")
