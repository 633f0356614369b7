"""A flow started by an event or by UpstreamFlow finishing.

python reactive_flow.py deploy
python reactive_flow.py run --trigger-event data.updated --payload '{"table_name": "t", "n": 2}'
python reactive_flow.py --trigger UpstreamFlow/<run id> run
"""

from headwater.flows import FlowSpec, Parameter, current, step, trigger


@trigger(event={"name": "data.updated", "parameters": {"table": "table_name", "n": "n"}})
class ReactiveFlow(FlowSpec):
    table = Parameter("table", default="none")
    n = Parameter("n", default=1)

    @step
    def start(self):
        t = current.trigger
        self.kind = None if t is None else ("run" if t.run else "event")
        self.upstream_rows = t.run.data.rows if t and t.run else None
        self.payload = t.event.payload if t and t.event else None
        self.next(self.end)

    @step
    def end(self):
        print("table", self.table, "n", self.n, "kind", self.kind, "rows", self.upstream_rows)


if __name__ == "__main__":
    ReactiveFlow()
