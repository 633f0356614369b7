"""Flows started by custom events (written as a Metaflow user would, imports aside)."""

from datetime import timedelta

from headwater.flows import (
    FlowSpec,
    Parameter,
    current,
    namespaced_event_name,
    project,
    step,
    trigger,
)


def _record(flow):
    t = current.trigger
    flow.event_names = [e.name for e in t.events] if t else []
    flow.payload = t.event.payload if t and t.event else None


@trigger(event={"name": "table.updated", "parameters": {"table": "table_name", "rows": "n_rows"}})
class OnDict(FlowSpec):
    table = Parameter("table", required=True, help="which table")
    rows = Parameter("rows", default=0)
    limit = Parameter("limit", default=1.5)

    @step
    def start(self):
        _record(self)
        self.seen = (self.table, self.rows, self.limit)
        self.next(self.end)

    @step
    def end(self):
        pass


@trigger(event={"name": "sales.loaded", "parameters": ["region", ("day", "date")]})
class OnList(FlowSpec):
    region = Parameter("region", default="EU")
    day = Parameter("day", default="")
    count = Parameter("count", type=int, default=0)

    @step
    def start(self):
        _record(self)
        self.seen = (self.region, self.day, self.count)
        self.next(self.end)

    @step
    def end(self):
        pass


@trigger(events=["ping.a", "ping.b"])
class AnyPing(FlowSpec):
    @step
    def start(self):
        _record(self)
        self.next(self.end)

    @step
    def end(self):
        pass


@trigger(events=["part.one", "part.two"], require="all", within=timedelta(minutes=10))
class AllParts(FlowSpec):
    @step
    def start(self):
        _record(self)
        self.next(self.end)

    @step
    def end(self):
        pass


@trigger(event=lambda ctx: {"name": ctx.flow_name.lower() + ".go", "parameters": ["n"]})
class ByCallable(FlowSpec):
    n = Parameter("n", type=int, required=True)

    @step
    def start(self):
        self.doubled = self.n * 2
        self.next(self.end)

    @step
    def end(self):
        pass


@project(name="nsproj")
@trigger(event=namespaced_event_name("refresh"))
class Namespaced(FlowSpec):
    @step
    def start(self):
        _record(self)
        self.own = namespaced_event_name("refresh")
        self.project_name = current.project_name
        self.branch_name = current.branch_name
        self.next(self.end)

    @step
    def end(self):
        pass
