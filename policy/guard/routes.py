"""Routes out of a subnet: whether a route table sends 0.0.0.0/0 or ::/0 somewhere (a NAT or internet gateway), and
whether a workload runs only in subnets that do. Answered once per route table per stack analysis."""

from __future__ import annotations

from pulumi_policy import PolicyResource

from guard.graph import StackGraph
from guard.types import INSTANCE, ROUTE, SUBNET
from guard.values import ANYWHERE, UNKNOWN, get


class Routes:
    def __init__(self, graph: StackGraph) -> None:
        self.graph = graph
        self._default: dict[str, bool] = {}

    @staticmethod
    def of(graph: StackGraph) -> Routes:
        return graph.shared(Routes)

    def has_default_route(self, table: PolicyResource) -> bool:
        if table.urn not in self._default:
            self._default[table.urn] = self._find_default_route(table)
        return self._default[table.urn]

    def _find_default_route(self, table: PolicyResource) -> bool:
        inline = get(table.props, "routes", [])
        if inline is not UNKNOWN and any(get(r, "cidrBlock") in ANYWHERE or get(r, "ipv6CidrBlock") in ANYWHERE
                                         for r in inline):
            return True
        return any(get(r.props, "destinationCidrBlock") in ANYWHERE
                   or get(r.props, "destinationIpv6CidrBlock") in ANYWHERE
                   for r in self.graph.fed_by(table, "routeTableId", ROUTE))

    def routed(self, subnet: PolicyResource) -> bool:
        """The subnet's route table has a default route."""
        return any(self.has_default_route(t) for t in self.graph.route_tables_of(subnet))

    def routes_out(self, consumer: PolicyResource) -> bool:
        """Every subnet it runs in has a default route (to a NAT or internet gateway): it reaches AWS's public service
        endpoints that way, and needs no interface endpoint (an ordinary VPC, not a private-only one)."""
        prop = "subnetId" if consumer.resource_type == INSTANCE else "networkConfiguration"
        subnets = self.graph.feeds(consumer, prop, SUBNET)
        return bool(subnets) and all(self.routed(s) for s in subnets)
